#include "plugins/bandwidth/bandwidth.hpp"

#include <algorithm>
#include <exception>
#include <iostream>
#include <optional>
#include <vector>

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
    spec.name = ifb_name(req.conf.name, req.env.container_id, req.env.ifname);
    spec.mtu = site.dev.mtu;
    spec.txqlen = 0;  // as the reference: the ifb's tbf is its only queue
    spec.alias = owner_alias(req.conf.name, req.env.container_id, req.env.ifname);
    return spec;
}

void print_notes(const Config& cfg) {
    for (const auto& note : cfg.notes) {
        std::cerr << "bandwidth: " << note << "\n";
    }
}

// Whether an ifb with the reference's name (one per container and network) belongs to this
// attachment. With an owner alias (sdnet before per-attachment names) the alias decides. Without
// one it is the reference plugin's, which records no owner: it is ours when this attachment's
// device redirects to it, or when the container is gone (then no other interface of the
// container can still need it). Otherwise it may shape another interface of the container
// (the reference's ADD of eth1 names its ifb the same as ours of eth0), and removing it would
// drop that interface's egress.
bool reference_ifb_is_ours(netlib::RouteSocket& sock, const netlib::LinkInfo& ifb,
                           const std::string& alias, const Site* site, bool container_gone) {
    if (!ifb.alias.empty()) {
        return ifb.alias == alias;
    }
    if (container_gone) {
        return true;
    }
    if (site == nullptr) {
        return false;
    }
    auto redirects = netlib::list_ingress_redirects(sock, site->dev.index);
    return std::any_of(redirects.begin(), redirects.end(),
                       [&](const auto& r) { return r.target == ifb.index; });
}

// The ifbs in `sock`'s namespace that this attachment owns, found by name and owner, never by
// name alone.
std::vector<netlib::LinkInfo> owned_ifbs(netlib::RouteSocket& sock, const cni::Request& req,
                                         const Site* site, bool container_gone) {
    const std::string alias = owner_alias(req.conf.name, req.env.container_id, req.env.ifname);
    std::vector<netlib::LinkInfo> out;
    auto own =
        netlib::find_link(sock, ifb_name(req.conf.name, req.env.container_id, req.env.ifname));
    if (own && own->kind == "ifb" && own->alias == alias) {
        out.push_back(*own);
    }
    auto ref = netlib::find_link(sock, reference_ifb_name(req.conf.name, req.env.container_id));
    if (ref && ref->kind == "ifb" &&
        reference_ifb_is_ours(sock, *ref, alias, site, container_gone)) {
        out.push_back(*ref);
    }
    return out;
}

// DEL in one namespace: the qdiscs on the shaped device when it lives there (`site`), then the
// attachment's ifbs (after the qdiscs, so that a retried DEL still recognises the redirect).
void release(netlib::RouteSocket& sock, const cni::Request& req, const Site* site,
             bool container_gone) {
    auto ifbs = owned_ifbs(sock, req, site, container_gone);
    if (site != nullptr) {
        unshape(sock, site->dev, ifbs);
    }
    for (const auto& ifb : ifbs) {
        (void)netlib::remove_link(sock, ifb.index);
    }
}

}  // namespace

cni::Result add(const cni::Request& req) {
    const cni::Result& prev = require_prev_result(req);
    Config cfg = Config::parse(req);
    print_notes(cfg);
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

// DEL reads no limit: it removes whatever ADD may have made, whether or not the configuration
// still carries limits, and never fails on a value only ADD has to check.
void del(const cni::Request& req) {
    auto host = netlib::RouteSocket::open();
    std::optional<netlib::Netns> netns;
    if (!req.env.netns.empty()) {
        netns = netlib::Netns::try_open(req.env.netns);
    }
    if (!netns) {
        // The namespace is gone, and with it the veth's peer (hence the veth and its qdiscs)
        // or the shaped interface and its ifb.
        release(host, req, nullptr, true);
        return;
    }
    auto ctr = netlib::RouteSocket::open_in(*netns);
    const cni::Result none;
    auto site =
        find_site(host, ctr, req.env.ifname, req.conf.prev_result ? *req.conf.prev_result : none);
    const Site* on_host = site && !site->in_container ? &*site : nullptr;
    const Site* in_ctr = site && site->in_container ? &*site : nullptr;
    release(host, req, on_host, false);
    release(ctr, req, in_ctr, false);
}

void check(const cni::Request& req) {
    const cni::Result& prev = require_prev_result(req);
    Config cfg = Config::parse(req);
    print_notes(cfg);
    if (cfg.empty()) {
        return;
    }
    netlib::Netns netns = open_container_netns(req.env.netns);
    auto host = netlib::RouteSocket::open();
    auto ctr = netlib::RouteSocket::open_in(netns);
    Site site = locate(host, ctr, req.env.ifname, prev);
    std::string ifb = ifb_name(req.conf.name, req.env.container_id, req.env.ifname);
    if (!netlib::find_link(*site.sock, ifb)) {
        // An ADD of the reference plugin, or of sdnet before ifbs were named per attachment.
        ifb = reference_ifb_name(req.conf.name, req.env.container_id);
    }
    verify(site, dev_limits(cfg, site.in_container), ifb);
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
        // Ours, of this network, and consistent: the name is the hash of the owner (or the
        // reference's name, which sdnet used before naming ifbs per attachment).
        if (link.kind != "ifb" || !owner || owner->network != req.conf.name ||
            (link.name != ifb_name(owner->network, owner->container_id, owner->ifname) &&
             link.name != reference_ifb_name(owner->network, owner->container_id))) {
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
