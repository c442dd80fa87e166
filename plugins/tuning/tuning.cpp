#include "plugins/tuning/tuning.hpp"

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/gc.hpp"
#include "plugins/cni/rollback.hpp"
#include "plugins/cni/stdio.hpp"
#include "plugins/tuning/config.hpp"
#include "plugins/tuning/saved_state.hpp"
#include "plugins/tuning/sysctls.hpp"

namespace tuning {
namespace {

using netlib::LinkInfo;
using netlib::RouteSocket;

const cni::Result& require_prev(const cni::Request& req) {
    if (!req.conf.prev_result) {
        throw cni::config_error("Required prevResult missing",
                                "chain \"tuning\" after the plugin that creates the interface");
    }
    return *req.conf.prev_result;
}

netlib::Netns open_netns(const std::string& path) {
    try {
        return netlib::Netns::open(path);
    } catch (const netlib::Error& e) {
        throw cni::Error(cni::Code::Internal, "failed to open netns \"" + path + "\"", e.what());
    }
}

LinkInfo require_link(RouteSocket& ctr, const cni::Request& req) {
    auto link = netlib::find_link(ctr, req.env.ifname);
    if (!link) {
        throw cni::Error(cni::Code::Internal,
                         "interface \"" + req.env.ifname + "\" not found in " + req.env.netns);
    }
    return *link;
}

// What ADD is about to change, as it is now.
SavedState originals(const Config& cfg, const LinkInfo& link) {
    SavedState s;
    if (cfg.mac) {
        s.mac = link.mac;
    }
    if (cfg.promisc) {
        s.promisc = link.promisc;
    }
    if (cfg.mtu != 0) {
        s.mtu = link.mtu;
    }
    if (cfg.allmulti) {
        s.allmulti = link.allmulti;
    }
    if (cfg.txqlen) {
        s.txqlen = link.txqlen;
    }
    return s;
}

// Sets every attribute `s` holds, in the order the reference restores them.
void set_attributes(RouteSocket& ctr, int index, const SavedState& s) {
    if (s.mtu) {
        netlib::set_mtu(ctr, index, *s.mtu);
    }
    if (s.mac) {
        netlib::set_mac(ctr, index, *s.mac);
    }
    if (s.promisc) {
        netlib::set_promisc(ctr, index, *s.promisc);
    }
    if (s.allmulti) {
        netlib::set_allmulti(ctr, index, *s.allmulti);
    }
    if (s.txqlen) {
        netlib::set_txqlen(ctr, index, *s.txqlen);
    }
}

SavedState wanted(const Config& cfg) {
    SavedState s;
    s.mac = cfg.mac;
    if (cfg.promisc) {
        s.promisc = true;
    }
    if (cfg.mtu != 0) {
        s.mtu = cfg.mtu;
    }
    s.allmulti = cfg.allmulti;
    s.txqlen = cfg.txqlen;
    return s;
}

// The link changes of ADD: saved first, so that a crash after a change still lets DEL restore.
void tune_link(RouteSocket& ctr, const cni::Request& req, const Config& cfg, cni::Rollback& undo) {
    if (!cfg.changes_link()) {
        return;
    }
    LinkInfo link = require_link(ctr, req);
    SavedState before = originals(cfg, link);
    auto path = saved_state_path(cfg.data_dir, req.env.container_id, req.env.ifname);
    write_saved_state(path, before);
    undo.add([path] { remove_saved_state(path); });
    write_owner(path, {req.conf.name, req.env.container_id, req.env.ifname});
    // Restoring an attribute not changed yet sets the value it has: harmless.
    undo.add([&ctr, index = link.index, before] { set_attributes(ctr, index, before); });
    try {
        set_attributes(ctr, link.index, wanted(cfg));
    } catch (const netlib::Error& e) {
        throw cni::Error(cni::Code::Internal, "failed to tune interface \"" + req.env.ifname + "\"",
                         e.what());
    }
}

cni::Result with_mac(cni::Result r, const cni::Request& req, const Config& cfg) {
    if (cfg.mac) {
        for (auto& iface : r.interfaces) {
            if (iface.name == req.env.ifname && !iface.sandbox.empty()) {
                iface.mac = cfg.mac->to_string();
            }
        }
    }
    return r;
}

void restore(const cni::Request& req, const std::string& path) {
    auto saved = read_saved_state(path);
    if (!saved) {
        return;  // nothing was changed, or DEL ran already
    }
    auto netns = req.env.netns.empty() ? std::nullopt : netlib::Netns::try_open(req.env.netns);
    if (netns) {
        auto ctr = RouteSocket::open_in(*netns);
        if (auto link = netlib::find_link(ctr, req.env.ifname)) {
            set_attributes(ctr, link->index, *saved);
        }
    }
    remove_saved_state(path);
}

[[noreturn]] void mismatch(const std::string& what) {
    throw cni::Error(cni::Code::Internal, "CHECK failed: " + what);
}

void check_link(const LinkInfo& link, const cni::Request& req, const Config& cfg) {
    const std::string& dev = req.env.ifname;
    if (cfg.mac && link.mac != *cfg.mac) {
        mismatch(dev + " has MAC " + link.mac.to_string() + ", configured " + cfg.mac->to_string());
    }
    if (link.promisc != cfg.promisc) {
        mismatch(dev + " promiscuous mode is " + (link.promisc ? "on" : "off") + ", configured " +
                 (cfg.promisc ? "on" : "off"));
    }
    if (cfg.mtu != 0 && link.mtu != cfg.mtu) {
        mismatch(dev + " has MTU " + std::to_string(link.mtu) + ", configured " +
                 std::to_string(cfg.mtu));
    }
    if (cfg.allmulti && link.allmulti != *cfg.allmulti) {
        mismatch(dev + " all-multicast mode is " + (link.allmulti ? "on" : "off") +
                 ", configured " + (*cfg.allmulti ? "on" : "off"));
    }
    if (cfg.txqlen && link.txqlen != *cfg.txqlen) {
        mismatch(dev + " has txqueuelen " + std::to_string(link.txqlen) + ", configured " +
                 std::to_string(*cfg.txqlen));
    }
}

}  // namespace

cni::Result add(const cni::Request& req) {
    Config cfg = Config::parse(req);
    const cni::Result& prev = require_prev(req);
    if (!cfg.changes_link() && cfg.sysctls.empty()) {
        return prev;  // podman's generated {"type": "tuning"}: nothing to do
    }
    netlib::Netns netns = open_netns(req.env.netns);
    auto ctr = RouteSocket::open_in(netns);
    cni::Rollback undo;
    // Link attributes before sysctls: a per-interface sysctl may depend on them (the IPv6 MTU
    // of an interface cannot exceed the link's MTU). The reference writes sysctls first.
    tune_link(ctr, req, cfg, undo);
    apply_sysctls(netns, cfg.sysctls, undo);
    undo.commit();
    return with_mac(prev, req, cfg);
}

void del(const cni::Request& req) {
    std::string path;
    try {
        path = saved_state_path(Config::parse_data_dir(req), req.env.container_id, req.env.ifname);
    } catch (const cni::Error&) {
        path = saved_state_path(kDefaultDataDir, req.env.container_id, req.env.ifname);
    }
    // DEL never fails (as the reference): a restore that cannot be done now (the interface is
    // gone with its namespace) never can be. A failed restore keeps the file for a retried DEL.
    try {
        restore(req, path);
        std::remove(owner_path(path).c_str());  // also when the reference saved nothing
    } catch (const std::exception& e) {
        cni::warn("tuning: cannot restore " + req.env.ifname + " from " + path + ": " + e.what());
        if (dynamic_cast<const netlib::Error*>(&e) == nullptr) {
            remove_saved_state(path);  // unreadable content: nothing to restore from, ever
        }
    }
}

void check(const cni::Request& req) {
    Config cfg = Config::parse(req);
    require_prev(req);
    netlib::Netns netns = open_netns(req.env.netns);
    auto ctr = RouteSocket::open_in(netns);
    check_link(require_link(ctr, req), req, cfg);
    auto wrong = sysctl_mismatches(netns, cfg.sysctls);
    if (!wrong.empty()) {
        mismatch("sysctl " + wrong.front());
    }
}

void gc(const cni::Request& req) {
    std::string dir = Config::parse_data_dir(req);
    auto valid = cni::ValidAttachments::parse(req.config);
    if (!valid) {
        return;  // without a list nothing is known to be stale
    }
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        std::string file = entry.path().string();
        if (!file.ends_with(kOwnerSuffix)) {
            continue;
        }
        // Unreadable owner files name no attachment: kept, like the reference's saved files.
        auto owner = read_owner(file);
        if (owner && !valid->is_live(*owner)) {
            // SPEC.md: GC may assume the namespace is gone, so there is nothing to restore.
            remove_saved_state(file.substr(0, file.size() - kOwnerSuffix.size()));
        }
    }
    if (ec && ec != std::errc::no_such_file_or_directory) {
        throw cni::Error(cni::Code::Io, "cannot list " + dir + ": " + ec.message());
    }
}

}  // namespace tuning
