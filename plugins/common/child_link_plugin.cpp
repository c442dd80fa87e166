#include "plugins/common/child_link_plugin.hpp"

#include <utility>

#include "netlib/link.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/gc.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/cni/rollback.hpp"
#include "plugins/common/container_iface.hpp"
#include "plugins/common/ipam_client.hpp"
#include "plugins/common/link_config.hpp"

namespace plugin {
namespace {

namespace ju = cni::json_util;

struct Config {
    std::optional<unsigned> mtu;
    bool link_in_container = false;
    bool has_ipam = false;
};

Config parse_config(const cni::Request& req, const ChildLinkKind& kind) {
    Config c;
    c.mtu = parse_mtu(req);
    c.link_in_container = ju::get_bool(req.config, "linkInContainer").value_or(false);
    c.has_ipam = !req.conf.ipam_type.empty();
    kind.validate(req);
    return c;
}

// The addresses of a chained plugin that takes them from prevResult instead of IPAM.
bool takes_prev_result(const cni::Request& req, const ChildLinkKind& kind, const Config& cfg) {
    return kind.uses_prev_result && !cfg.has_ipam && req.conf.prev_result.has_value();
}

// Where the master lives: the host's netns, or the container's with linkInContainer.
struct Sockets {
    netlib::RouteSocket host;
    netlib::RouteSocket ctr;

    netlib::RouteSocket& parent(const Config& cfg) { return cfg.link_in_container ? ctr : host; }
};

// The master, or an empty LinkInfo (index 0) for a kind without one.
netlib::LinkInfo lookup_master(const cni::Request& req, const ChildLinkKind& kind,
                               const Config& cfg, Sockets& socks) {
    if (!kind.has_master) {
        return {};
    }
    auto& sock = socks.parent(cfg);
    const auto& prev = req.conf.prev_result;
    const bool master_given = !ju::get_string(req.config, "master").value_or("").empty();
    if (kind.uses_prev_result && !master_given && prev && prev->interfaces.size() == 1) {
        return find_master(sock, prev->interfaces[0].name, cfg.mtu);
    }
    return find_master(sock, master_name(req, sock), cfg.mtu);
}

// Created straight in the container, named and up in the creating request. When that fails,
// the name is looked up (off the common path): taken in the container is an error of its own
// (vlan's EEXIST would otherwise read as its VLAN id being in use); otherwise an older kernel
// found the name taken in the master's netns, and the link is made under a temporary name,
// renamed and brought up (a repeated failure is the real one, and is reported).
netlib::LinkInfo create_link(const ChildLinkKind& kind, const Config& cfg, Sockets& socks,
                             const netlib::Netns& netns, const cni::Request& req, int master,
                             cni::Rollback& undo) {
    ChildLinkRequest r{
        req, req.env.ifname, master, cfg.mtu, cfg.link_in_container ? nullptr : &netns, socks.ctr};
    netlib::LinkInfo link;
    try {
        link = kind.create(socks.parent(cfg), r);
    } catch (...) {
        if (netlib::find_link(socks.ctr, req.env.ifname)) {
            throw cni::Error(cni::Code::Internal, "interface \"" + req.env.ifname +
                                                      "\" already exists in " + req.env.netns);
        }
        r.name = netlib::random_veth_name();
        r.up = false;
        link = kind.create(socks.parent(cfg), r);
        undo.add([&socks, index = link.index] { (void)netlib::remove_link(socks.ctr, index); });
        netlib::set_name(socks.ctr, link.index, req.env.ifname);
        link.name = req.env.ifname;
        netlib::set_up(socks.ctr, link.index, true);
        return link;
    }
    undo.add([&socks, index = link.index] { (void)netlib::remove_link(socks.ctr, index); });
    return link;
}

cni::Result make_result(const cni::Request& req, cni::Result ipam, const netlib::LinkInfo& link) {
    cni::Result r;
    r.interfaces = {
        {req.env.ifname, link.mac.to_string(), static_cast<int>(link.mtu), req.env.netns, {}, {}}};
    r.ips = std::move(ipam.ips);
    for (auto& ip : r.ips) {
        ip.interface = 0;
    }
    r.routes = std::move(ipam.routes);
    r.dns = req.conf.dns && !req.conf.dns->empty() ? *req.conf.dns : ipam.dns;
    return r;
}

cni::Result add(const ChildLinkKind& kind, const cni::Request& req) {
    Config cfg = parse_config(req, kind);
    std::optional<PendingIpamAdd> pending;
    if (cfg.has_ipam) {
        pending.emplace(req);
    }
    netlib::Netns netns = open_container_netns(req.env.netns);
    Sockets socks{netlib::RouteSocket::open(), netlib::RouteSocket::open_in(netns)};
    auto master = lookup_master(req, kind, cfg, socks);
    // Declared before `undo`: addresses are released only once the link holding them is gone.
    cni::Rollback release;
    cni::Rollback undo;
    netlib::LinkInfo link = create_link(kind, cfg, socks, netns, req, master.index, undo);
    cni::Result addrs;
    if (pending) {
        addrs = pending->take(release);
        if (addrs.ips.empty()) {
            throw cni::Error(cni::Code::Internal, "IPAM plugin returned no IP addresses");
        }
    } else if (takes_prev_result(req, kind, cfg)) {
        addrs = *req.conf.prev_result;
    }
    if (!addrs.ips.empty()) {
        IfaceOptions opts;
        opts.arp_notify = true;
        configure_container_iface(socks.ctr, netns, req.env.ifname, link.index, opts, addrs);
    }
    undo.commit();
    release.commit();
    return make_result(req, std::move(addrs), link);
}

// As the reference: IPAM first, then the link if the netns still exists. A netns that is gone
// took the link with it.
void del(const cni::Request& req) {
    BestEffort steps;
    if (!req.conf.ipam_type.empty()) {
        steps.run([&] { ipam_del(req); });
    }
    steps.run([&] {
        if (req.env.netns.empty()) {
            return;
        }
        if (auto netns = netlib::Netns::try_open(req.env.netns)) {
            auto ctr = netlib::RouteSocket::open_in(*netns);
            (void)netlib::remove_link(ctr, req.env.ifname);
        }
    });
    steps.finish();
}

void check_link(const ChildLinkKind& kind, const cni::Request& req, const netlib::LinkInfo& link,
                const netlib::LinkInfo& master, const cni::Interface& want) {
    const std::string iface = "interface \"" + req.env.ifname + "\"";
    if (link.kind != kind.link_kind) {
        check_failed(iface + " is not a " + kind.link_kind + " link");
    }
    if (auto problem = kind.check(req, link)) {
        check_failed(iface + " " + *problem);
    }
    if (kind.has_master && link.peer_index != master.index) {
        check_failed(iface + " is not on master \"" + master.name + "\"");
    }
    if (!want.mac.empty() && link.mac.to_string() != want.mac) {
        check_failed(iface + " has MAC " + link.mac.to_string() + ", expected " + want.mac);
    }
}

void check(const ChildLinkKind& kind, const cni::Request& req) {
    Config cfg = parse_config(req, kind);
    const cni::Result& prev = require_prev_result(req);
    if (cfg.has_ipam) {
        ipam_check(req);
    }
    const cni::Interface* want = prev_container_iface(prev, req);
    if (want == nullptr) {
        check_failed("prevResult names no interface \"" + req.env.ifname + "\" in " +
                     req.env.netns);
    }
    auto netns = open_container_netns(req.env.netns);
    Sockets socks{netlib::RouteSocket::open(), netlib::RouteSocket::open_in(netns)};
    // Not lookup_master(): prevResult is this plugin's own result here, not the one it chained on.
    auto master = kind.has_master
                      ? find_master(socks.parent(cfg), master_name(req, socks.parent(cfg)), cfg.mtu)
                      : netlib::LinkInfo{};
    auto link = netlib::find_link(socks.ctr, req.env.ifname);
    if (!link) {
        check_failed("interface \"" + req.env.ifname + "\" not found in " + req.env.netns);
    }
    check_link(kind, req, *link, master, *want);
    check_container_addresses(socks.ctr, prev, link->index);
    check_container_routes(socks.ctr, prev);
}

}  // namespace

cni::Plugin child_link_plugin(const ChildLinkKind& kind) {
    cni::Plugin p;
    p.name = kind.plugin;
    p.add = [kind](const cni::Request& req) { return add(kind, req); };
    p.del = del;
    p.check = [kind](const cni::Request& req) { check(kind, req); };
    // GC reads no key of the link (a stale configuration must not stop it), but applies the
    // one rule for the list of valid attachments even when there is no IPAM state to collect.
    p.gc = [](const cni::Request& req) {
        (void)cni::ValidAttachments::parse(req.config);
        if (!req.conf.ipam_type.empty()) {
            ipam_gc(req);
        }
    };
    p.status = [kind](const cni::Request& req) {
        if (parse_config(req, kind).has_ipam) {
            ipam_status(req);
        }
    };
    return p;
}

}  // namespace plugin
