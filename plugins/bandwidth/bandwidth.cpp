#include "plugins/bandwidth/bandwidth.hpp"

#include <algorithm>
#include <exception>
#include <optional>

#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "netlib/tc.hpp"
#include "plugins/bandwidth/config.hpp"
#include "plugins/bandwidth/shaping.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/gc.hpp"
#include "plugins/cni/rollback.hpp"

namespace bandwidth {
namespace {

const cni::Result& require_prev_result(const cni::Request& req) {
    if (!req.conf.prev_result) {
        throw cni::config_error("the bandwidth plugin must be called as a chained plugin",
                                "prevResult is missing: list it after an interface plugin "
                                "(bridge, ptp, macvlan, ...) in a conflist");
    }
    return *req.conf.prev_result;
}

netlib::Netns open_container_netns(const std::string& path) {
    try {
        return netlib::Netns::open(path);
    } catch (const netlib::Error& e) {
        throw cni::Error(cni::Code::Internal, "failed to open netns \"" + path + "\"", e.what());
    }
}

netlib::IfbSpec ifb_spec(const cni::Request& req, const Site& site) {
    netlib::IfbSpec spec;
    spec.name = ifb_name(req.conf.name, req.env.container_id);
    spec.mtu = site.dev.mtu;
    spec.txqlen = 0;  // as the reference: the ifb's tbf is its only queue
    spec.alias = owner_alias(req.conf.name, req.env.container_id, req.env.ifname);
    return spec;
}

// DEL inside the container namespace: the ifb and, when CNI_IFNAME carried the limits itself
// (no host veth), the qdiscs ADD put on it, so an interface that outlives the attachment (a NIC
// host-device hands back) keeps no limit.
void clean_container(const cni::Request& req, const Config& cfg, const std::string& ifb) {
    auto netns = netlib::Netns::try_open(req.env.netns);
    if (!netns) {
        return;  // the namespace is gone, and everything in it
    }
    auto ctr = netlib::RouteSocket::open_in(*netns);
    (void)netlib::remove_link(ctr, ifb);
    auto dev = netlib::find_link(ctr, req.env.ifname);
    if (!dev || dev->kind == "veth") {
        return;  // shaped from the host side; the veth takes its qdiscs with it
    }
    if (cfg.egress) {
        (void)netlib::remove_root_tbf(ctr, dev->index);
    }
    if (cfg.ingress) {
        (void)netlib::remove_ingress_qdisc(ctr, dev->index);
    }
}

}  // namespace

cni::Result add(const cni::Request& req) {
    const cni::Result& prev = require_prev_result(req);
    Config cfg = Config::parse(req);
    if (cfg.empty()) {
        return prev;
    }
    netlib::Netns netns = open_container_netns(req.env.netns);
    auto host = netlib::RouteSocket::open();
    auto ctr = netlib::RouteSocket::open_in(netns);
    Site site = locate(host, ctr, req.env.ifname, prev);
    cni::Rollback undo;
    auto ifb = shape(site, dev_limits(cfg, site.in_container), ifb_spec(req, site), undo);
    undo.commit();

    cni::Result r = prev;
    if (ifb) {
        r.interfaces.push_back({ifb->name,
                                ifb->mac.to_string(),
                                {},
                                site.in_container ? req.env.netns : std::string{},
                                {},
                                {}});
    }
    return r;
}

void del(const cni::Request& req) {
    Config cfg = Config::parse(req);
    if (cfg.empty()) {
        return;
    }
    std::string ifb = ifb_name(req.conf.name, req.env.container_id);
    auto host = netlib::RouteSocket::open();
    if (netlib::remove_link(host, ifb)) {
        return;  // shaped from the host side: nothing of ours is left in the container
    }
    if (!req.env.netns.empty()) {
        clean_container(req, cfg, ifb);
    }
}

void check(const cni::Request& req) {
    const cni::Result& prev = require_prev_result(req);
    Config cfg = Config::parse(req);
    if (cfg.empty()) {
        return;
    }
    netlib::Netns netns = open_container_netns(req.env.netns);
    auto host = netlib::RouteSocket::open();
    auto ctr = netlib::RouteSocket::open_in(netns);
    Site site = locate(host, ctr, req.env.ifname, prev);
    verify(site, dev_limits(cfg, site.in_container), ifb_name(req.conf.name, req.env.container_id));
}

void gc(const cni::Request& req) {
    (void)Config::parse(req);
    auto valid = cni::ValidAttachments::parse(req.config);
    // Without a list nothing is known to be stale: removing every ifb would lift live limits.
    if (!valid) {
        return;
    }
    auto host = netlib::RouteSocket::open();
    std::exception_ptr first;
    for (const auto& link : netlib::list_links(host)) {
        auto owner = parse_owner_alias(link.alias);
        // Ours, of this network, and consistent: the name is the hash of network and container.
        if (link.kind != "ifb" || !owner || owner->network != req.conf.name ||
            link.name != ifb_name(owner->network, owner->container_id)) {
            continue;
        }
        if (valid->is_live({owner->network, owner->container_id, owner->ifname})) {
            continue;
        }
        try {
            (void)netlib::remove_link(host, link.index);
        } catch (...) {
            // GC goes on with the other devices and reports the first failure.
            if (!first) {
                first = std::current_exception();
            }
        }
    }
    if (first) {
        std::rethrow_exception(first);
    }
}

void status(const cni::Request& req) {
    (void)Config::parse(req);
}

}  // namespace bandwidth
