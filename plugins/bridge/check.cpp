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
#include "plugins/common/ipam_client.hpp"

namespace bridge {
namespace {

[[noreturn]] void mismatch(const std::string& what) {
    throw cni::Error(cni::Code::Internal, "CHECK failed: " + what);
}

const cni::Interface* container_iface(const cni::Result& prev, const cni::Request& req) {
    for (const auto& i : prev.interfaces) {
        if (i.name == req.env.ifname && i.sandbox == req.env.netns) {
            return &i;
        }
    }
    return nullptr;
}

netlib::LinkInfo check_bridge(netlib::RouteSocket& host, const Config& cfg) {
    auto br = netlib::find_link(host, cfg.bridge);
    if (!br) {
        mismatch("bridge \"" + cfg.bridge + "\" does not exist");
    }
    if (br->kind != "bridge") {
        mismatch("\"" + cfg.bridge + "\" is not a bridge");
    }
    if (br->promisc != cfg.promisc_mode) {
        mismatch("bridge \"" + cfg.bridge + "\" promiscuous mode differs from promiscMode");
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
        mismatch("interface \"" + req.env.ifname + "\" not found in " + req.env.netns);
    }
    if (link->kind != "veth") {
        mismatch("interface \"" + req.env.ifname + "\" is not a veth");
    }
    if (!want.mac.empty() && link->mac.to_string() != want.mac) {
        mismatch("interface \"" + req.env.ifname + "\" has MAC " + link->mac.to_string() +
                 ", expected " + want.mac);
    }
    auto peer = netlib::find_link(host, link->peer_index);
    if (!peer || peer->master != br.index) {
        mismatch("the veth peer of \"" + req.env.ifname + "\" is not a port of bridge \"" +
                 br.name + "\"");
    }
    return *link;
}

void check_addresses(netlib::RouteSocket& ctr, const cni::Result& prev, int ifindex) {
    auto have = netlib::list_addresses(ctr, ifindex, std::nullopt);
    for (const auto& ip : prev.ips) {
        if (std::find(have.begin(), have.end(), ip.address) == have.end()) {
            mismatch("address " + ip.address.to_string() + " is missing");
        }
    }
}

void check_routes(netlib::RouteSocket& ctr, const cni::Result& prev) {
    auto have = netlib::list_routes(ctr, std::nullopt, std::nullopt);
    for (const auto& want : prev.routes) {
        bool found = std::any_of(have.begin(), have.end(), [&](const netlib::RouteSpec& r) {
            return r.dst == want.dst && (!want.gw || r.gw == want.gw);
        });
        if (!found) {
            mismatch("route to " + want.dst.to_string() + " is missing");
        }
    }
}

void check_masquerade(const cni::Request& req, const cni::Result& prev) {
    auto entries = netlib::masq_list(req.conf.name);
    for (const auto& ip : prev.ips) {
        bool found = std::any_of(entries.begin(), entries.end(), [&](const netlib::MasqEntry& e) {
            return e.container_id == req.env.container_id && e.ifname == req.env.ifname &&
                   e.address == ip.address.addr();
        });
        if (!found) {
            mismatch("masquerade for " + ip.address.addr().to_string() + " is missing");
        }
    }
}

}  // namespace

void check(const cni::Request& req) {
    Config cfg = Config::parse(req);
    if (!req.conf.prev_result) {
        throw cni::Error(cni::Code::InvalidConfig, "Required prevResult missing");
    }
    const cni::Result& prev = *req.conf.prev_result;
    if (cfg.has_ipam) {
        plugin::ipam_check(req);
    }
    const cni::Interface* want = container_iface(prev, req);
    if (want == nullptr) {
        mismatch("prevResult names no interface \"" + req.env.ifname + "\" in " + req.env.netns);
    }
    auto netns = netlib::Netns::open(req.env.netns);
    auto host = netlib::RouteSocket::open();
    auto ctr = netlib::RouteSocket::open_in(netns);
    auto br = check_bridge(host, cfg);
    auto link = check_wiring(host, ctr, req, *want, br);
    check_addresses(ctr, prev, link.index);
    check_routes(ctr, prev);
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
