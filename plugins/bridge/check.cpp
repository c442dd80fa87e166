#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "netlib/addr.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/nft_macspoof.hpp"
#include "netlib/nft_masq.hpp"
#include "netlib/route.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/bridge/bridge.hpp"
#include "plugins/bridge/config.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/gc.hpp"
#include "plugins/common/container_iface.hpp"
#include "plugins/common/ipam_client.hpp"

namespace bridge {
namespace {

using plugin::check_failed;

netlib::LinkInfo check_bridge(netlib::RouteSocket& host, const Config& cfg) {
    auto br = netlib::find_link(host, cfg.bridge);
    if (!br) {
        check_failed("bridge \"" + cfg.bridge + "\" does not exist");
    }
    if (br->kind != "bridge") {
        check_failed("\"" + cfg.bridge + "\" is not a bridge");
    }
    if (br->promisc != cfg.promisc_mode) {
        check_failed("bridge \"" + cfg.bridge + "\" promiscuous mode differs from promiscMode");
    }
    return *br;
}

// The container interface exists with the MAC the result named, and its veth peer is a port of
// the bridge.
netlib::LinkInfo check_wiring(netlib::RouteSocket& host, netlib::RouteSocket& ctr,
                              const cni::Request& req, const cni::Interface& want,
                              const netlib::LinkInfo& br) {
    auto link = netlib::find_link(ctr, req.env.ifname);
    if (!link) {
        check_failed("interface \"" + req.env.ifname + "\" not found in " + req.env.netns);
    }
    if (link->kind != "veth") {
        check_failed("interface \"" + req.env.ifname + "\" is not a veth");
    }
    if (!want.mac.empty() && link->mac.to_string() != want.mac) {
        check_failed("interface \"" + req.env.ifname + "\" has MAC " + link->mac.to_string() +
                     ", expected " + want.mac);
    }
    auto peer = netlib::find_link(host, link->peer_index);
    if (!peer || peer->master != br.index) {
        check_failed("the veth peer of \"" + req.env.ifname + "\" is not a port of bridge \"" +
                     br.name + "\"");
    }
    return *link;
}

void check_masquerade(const cni::Request& req, const cni::Result& prev) {
    auto entries = netlib::masq_list(req.conf.name);
    for (const auto& ip : prev.ips) {
        bool found = std::any_of(entries.begin(), entries.end(), [&](const netlib::MasqEntry& e) {
            return e.container_id == req.env.container_id && e.ifname == req.env.ifname &&
                   e.address == ip.address.addr();
        });
        if (!found) {
            check_failed("masquerade for " + ip.address.addr().to_string() + " is missing");
        }
    }
}

}  // namespace

void check(const cni::Request& req) {
    Config cfg = Config::parse(req);
    const cni::Result& prev = plugin::require_prev_result(req);
    if (cfg.has_ipam) {
        plugin::ipam_check(req);
    }
    const cni::Interface* want = plugin::prev_container_iface(prev, req);
    if (want == nullptr) {
        check_failed("prevResult names no interface \"" + req.env.ifname + "\" in " +
                     req.env.netns);
    }
    auto netns = plugin::open_container_netns(req.env.netns);
    auto host = netlib::RouteSocket::open();
    auto ctr = netlib::RouteSocket::open_in(netns);
    auto br = check_bridge(host, cfg);
    auto link = check_wiring(host, ctr, req, *want, br);
    plugin::check_container_addresses(ctr, prev, link.index);
    plugin::check_container_routes(ctr, prev);
    if (cfg.ip_masq) {
        check_masquerade(req, prev);
    }
}

void gc(const cni::Request& req) {
    Config cfg = Config::parse(req);
    // Without a list nothing is known to be stale: releasing everything would cut off live
    // containers, so only an explicit (possibly empty) list removes state.
    // A kernel without nftables holds no element of ours: the addresses are still collected.
    auto valid = cni::ValidAttachments::parse(req.config);
    if (auto nft = valid ? netlib::NftSocket::if_kernel_has_nftables() : std::nullopt) {
        netlib::masq_gc(*nft, req.conf.name, valid->pairs());
        netlib::macspoof_gc(*nft, req.conf.name, valid->pairs());
    }
    if (cfg.has_ipam) {
        plugin::ipam_gc(req);
    }
}

void status(const cni::Request& req) {
    Config cfg = Config::parse(req);
    if (cfg.has_ipam) {
        plugin::ipam_status(req);
    }
}

}  // namespace bridge
