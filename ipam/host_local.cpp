#include "ipam/host_local.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "ipam/allocator.hpp"
#include "ipam/config.hpp"
#include "ipam/disk_store.hpp"
#include "netlib/error.hpp"
#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/gc.hpp"

namespace ipam {
namespace {

using netlib::IpAddr;

Attachment attachment(const cni::Env& env) {
    if (!cni::valid_id(env.container_id)) {
        throw cni::Error(cni::Code::InvalidEnv,
                         "invalid CNI_CONTAINERID \"" + env.container_id + "\"",
                         "must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
    }
    if (auto problem = cni::ifname_problem(env.ifname)) {
        throw cni::Error(cni::Code::InvalidEnv, "invalid CNI_IFNAME \"" + env.ifname + "\"",
                         *problem);
    }
    return {env.container_id, env.ifname};
}

std::string who(const Attachment& a) {
    return a.container_id + "/" + a.ifname;
}

// Runs `body`, turning the store's system call failures into CNI errors: `code` (5, I/O, by
// default), or 11 for the transient EAGAIN/EBUSY.
template <class Body>
auto with_io_errors(Body&& body, cni::Code code = cni::Code::Io) {
    try {
        return body();
    } catch (const netlib::Error& e) {
        bool transient = e.code() == EAGAIN || e.code() == EBUSY;
        throw cni::Error(transient && code == cni::Code::Io ? cni::Code::TryAgain : code,
                         std::string{"host-local: "} + e.what());
    }
}

cni::Dns read_resolv_conf(const std::string& path) {
    auto fail = [&](int err) {
        return cni::config_error("invalid configuration: \"ipam.resolvConf\" \"" + path +
                                 "\" cannot be read: " + std::strerror(err));
    };
    netlib::Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (!fd) {
        throw fail(errno);
    }
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw fail(errno);
        }
        if (n == 0) {
            return parse_resolv_conf(text);
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
}

// Which range set each requested address belongs to (sets never overlap, so at most one).
std::vector<std::optional<IpAddr>> assign_requested(const Config& cfg) {
    std::vector<std::optional<IpAddr>> out(cfg.range_sets.size());
    std::vector<const RequestedIp*> by(cfg.range_sets.size(), nullptr);
    for (const auto& r : cfg.requested) {
        auto it = std::find_if(cfg.range_sets.begin(), cfg.range_sets.end(),
                               [&](const RangeSet& s) { return s.contains(r.ip); });
        if (it == cfg.range_sets.end()) {
            std::string all;
            for (const auto& s : cfg.range_sets) {
                all += (all.empty() ? "" : "; ") + s.to_string();
            }
            throw cni::config_error("invalid configuration: requested IP address " +
                                    r.ip.to_string() + " (" + r.source +
                                    ") is not in any range set: " + all);
        }
        auto i = static_cast<std::size_t>(it - cfg.range_sets.begin());
        if (by[i] != nullptr) {
            throw cni::config_error(
                "invalid configuration: requested IP addresses " + by[i]->ip.to_string() + " (" +
                    by[i]->source + ") and " + r.ip.to_string() + " (" + r.source +
                    ") are both in range set " + std::to_string(i) + " (" + it->to_string() + ")",
                "host-local allocates one address per range set");
        }
        by[i] = &r;
        out[i] = r.ip;
    }
    return out;
}

void release_quietly(Store& store, const std::vector<cni::IpConfig>& ips,
                     const Attachment& holder) noexcept {
    for (const auto& ip : ips) {
        try {
            store.release(ip.address.addr(), holder);
        } catch (const std::exception&) {
            // Left for DEL or GC; the ADD error is what the caller must see.
        }
    }
}

cni::IpConfig allocate_one(Store& store, const RangeSet& set, std::size_t index,
                           const Attachment& holder, const std::optional<IpAddr>& requested) {
    try {
        return Allocator{set, index, store}.allocate(holder, requested);
    } catch (const cni::Error& e) {
        // The reference's wording, which logs and tests may match on.
        throw cni::Error(e.code(),
                         "failed to allocate for range " + std::to_string(index) + ": " + e.what(),
                         e.details());
    }
}

std::vector<cni::IpConfig> allocate_all(Store& store, const Config& cfg, const Attachment& holder,
                                        const std::vector<std::optional<IpAddr>>& requested) {
    std::vector<cni::IpConfig> ips;
    try {
        for (std::size_t i = 0; i < cfg.range_sets.size(); ++i) {
            ips.push_back(allocate_one(store, cfg.range_sets[i], i, holder, requested[i]));
        }
    } catch (const std::exception&) {
        release_quietly(store, ips, holder);
        throw;
    }
    return ips;
}

// The reservation's owner as GC's rule sees it; an unreadable file has none and is stale.
bool still_valid(const std::optional<Attachment>& holder, const Location& loc,
                 const cni::ValidAttachments& valid) {
    return holder && valid.is_live({loc.network, holder->container_id, holder->ifname});
}

}  // namespace

cni::Result host_local_add(const cni::Request& req) {
    Attachment holder = attachment(req.env);
    Config cfg = parse_config(req.config, req.env.args);
    auto requested = assign_requested(cfg);
    cni::Result result;
    if (!cfg.resolv_conf.empty()) {
        result.dns = read_resolv_conf(cfg.resolv_conf);
    }
    result.routes = cfg.routes;
    result.ips = with_io_errors([&] {
        auto store = DiskStore::create(cfg.location.data_dir, cfg.location.network,
                                       {.range_sets = cfg.range_sets.size()});
        StoreLock lock{store};
        return allocate_all(store, cfg, holder, requested);
    });
    return result;
}

void host_local_del(const cni::Request& req) {
    Attachment holder = attachment(req.env);
    Location loc = parse_location(req.config);
    with_io_errors([&] {
        auto store = DiskStore::open(loc.data_dir, loc.network);
        if (!store) {
            return;  // nothing was ever allocated here; create nothing
        }
        StoreLock lock{*store};
        if (store->release_all(holder).empty()) {
            store->release_all(holder.legacy());  // files written before ifnames were recorded
        }
    });
}

void host_local_check(const cni::Request& req) {
    Attachment holder = attachment(req.env);
    Config cfg = parse_config(req.config, req.env.args);
    auto held = with_io_errors([&] {
        std::vector<IpAddr> ips;
        if (auto store = DiskStore::open(cfg.location.data_dir, cfg.location.network)) {
            StoreLock lock{*store};
            ips = store->find(holder);
            if (ips.empty()) {
                ips = store->find(holder.legacy());
            }
        }
        return ips;
    });
    if (held.empty()) {
        throw cni::Error(cni::Code::Internal,
                         "host-local: Failed to find address added by container " +
                             holder.container_id + " (ifname " + holder.ifname + ")");
    }
    for (std::size_t i = 0; i < cfg.range_sets.size(); ++i) {
        const auto& set = cfg.range_sets[i];
        if (std::none_of(held.begin(), held.end(),
                         [&](const IpAddr& ip) { return set.contains(ip); })) {
            throw cni::Error(cni::Code::Internal,
                             "host-local: " + who(holder) + " holds no address in range set " +
                                 std::to_string(i) + " (" + set.to_string() + ")");
        }
    }
    if (!req.conf.prev_result) {
        return;
    }
    for (const auto& ip : req.conf.prev_result->ips) {
        IpAddr a = ip.address.addr();
        bool ours = std::any_of(cfg.range_sets.begin(), cfg.range_sets.end(),
                                [&](const RangeSet& s) { return s.contains(a); });
        if (ours && std::find(held.begin(), held.end(), a) == held.end()) {
            throw cni::Error(cni::Code::Internal, "host-local: prevResult address " +
                                                      a.to_string() + " is not reserved for " +
                                                      who(holder));
        }
    }
}

void host_local_gc(const cni::Request& req) {
    Location loc = parse_location(req.config);
    auto valid = cni::ValidAttachments::parse(req.config);
    if (!valid) {
        return;  // see host_local.hpp: no list means "do nothing", not "nothing is valid"
    }
    with_io_errors([&] {
        auto store = DiskStore::open(loc.data_dir, loc.network);
        if (!store) {
            return;
        }
        StoreLock lock{*store};
        // SPEC.md: GC continues on errors and reports them at the end.
        std::optional<netlib::Error> first_error;
        for (const auto& r : store->list()) {
            if (still_valid(r.holder, loc, *valid)) {
                continue;
            }
            try {
                store->release(r.ip, r.holder);
            } catch (const netlib::Error& e) {
                if (!first_error) {
                    first_error = e;
                }
            }
        }
        if (first_error) {
            throw *first_error;
        }
    });
}

void host_local_status(const cni::Request& req) {
    Config cfg = parse_config(req.config, {});
    auto all = with_io_errors(
        [&] {
            std::vector<Reservation> out;
            if (auto store = DiskStore::open(cfg.location.data_dir, cfg.location.network)) {
                StoreLock lock{*store};
                out = store->list();
            }
            return out;
        },
        cni::Code::NotAvailable);
    for (std::size_t i = 0; i < cfg.range_sets.size(); ++i) {
        const auto& set = cfg.range_sets[i];
        std::uint64_t used = 0;
        for (const auto& r : all) {
            const Range* range = set.range_for(r.ip);
            used += range != nullptr && range->usable(r.ip) ? 1 : 0;
        }
        if (used >= set.capacity()) {
            throw cni::Error(cni::Code::NotAvailable,
                             "no IP addresses available in range set " + std::to_string(i) + ": " +
                                 set.to_string(),
                             std::to_string(used) + " of " + std::to_string(set.capacity()) +
                                 " addresses reserved");
        }
    }
}

cni::Plugin host_local_plugin() {
    return {.name = "host-local",
            .add = host_local_add,
            .del = host_local_del,
            .check = host_local_check,
            .gc = host_local_gc,
            .status = host_local_status};
}

}  // namespace ipam
