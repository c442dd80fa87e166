#include "plugins/firewall/firewall.hpp"

#include <set>
#include <string>
#include <utility>

#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/nft_firewall.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/gc.hpp"
#include "plugins/common/needs_kernel.hpp"
#include "plugins/firewall/config.hpp"

namespace firewall {
namespace {

const char* policy_name(netlib::IngressPolicy p) {
    return p == netlib::IngressPolicy::SameBridge ? "same-bridge" : "isolated";
}

const cni::Result& require_prev(const cni::Request& req) {
    if (!req.conf.prev_result) {
        throw cni::config_error("missing prevResult from earlier plugin",
                                "chain \"firewall\" after a plugin that creates the interface");
    }
    return *req.conf.prev_result;
}

netlib::FirewallAttachment base_attachment(const cni::Request& req, const Config& cfg) {
    netlib::FirewallAttachment a{
        req.conf.name, req.env.container_id, req.env.ifname, {}, cfg.policy, {}, {}};
    if (req.conf.prev_result) {
        for (const auto& ip : req.conf.prev_result->ips) {
            a.addresses.push_back(ip.address.addr());
        }
    }
    return a;
}

// The bridge, as the reference finds it: the first interface of prevResult, which the bridge
// plugin reports on the host side (no sandbox). Checked to be a bridge, so that a chain behind
// macvlan gets an error instead of "isolating" some other interface.
netlib::LinkInfo find_bridge(netlib::RouteSocket& host, const cni::Result& prev,
                             netlib::IngressPolicy policy) {
    auto fail = [&](const std::string& why) -> netlib::LinkInfo {
        throw cni::config_error(
            std::string{"ingressPolicy \""} + policy_name(policy) + "\" needs a bridge: " + why,
            "chain \"firewall\" after the \"bridge\" plugin");
    };
    if (prev.interfaces.empty() || !prev.interfaces.front().sandbox.empty()) {
        return fail("prevResult's first interface is not a host interface");
    }
    const auto& name = prev.interfaces.front().name;
    auto link = netlib::find_link(host, name);
    if (!link || link->kind != "bridge") {
        return fail("prevResult's first interface \"" + name + "\" is not a bridge");
    }
    return *link;
}

// The container's port on the bridge: a host interface of prevResult enslaved to it (the host
// end of the bridge plugin's veth).
std::string find_port(netlib::RouteSocket& host, const cni::Result& prev,
                      const netlib::LinkInfo& bridge) {
    for (std::size_t i = 1; i < prev.interfaces.size(); ++i) {
        const auto& iface = prev.interfaces[i];
        if (!iface.sandbox.empty()) {
            continue;
        }
        if (auto link = netlib::find_link(host, iface.name); link && link->master == bridge.index) {
            return link->name;
        }
    }
    throw cni::config_error(
        "ingressPolicy \"isolated\" needs the container's bridge port: no "
        "host interface of prevResult is a port of \"" +
        bridge.name + "\"");
}

// The attachment as ADD and CHECK see it, with the bridge and port checked in the kernel.
netlib::FirewallAttachment attachment(const cni::Request& req, const Config& cfg) {
    const cni::Result& prev = require_prev(req);
    auto a = base_attachment(req, cfg);
    if (cfg.policy != netlib::IngressPolicy::Open) {
        auto host = netlib::RouteSocket::open();
        auto bridge = find_bridge(host, prev, cfg.policy);
        a.bridge = bridge.name;
        if (cfg.policy == netlib::IngressPolicy::Isolated) {
            a.host_port = find_port(host, prev, bridge);
        }
    }
    return a;
}

// DEL's view: keys from prevResult as given (the links may be gone already). When a key it
// needs is unknown, none are given, and DEL finds the elements by their owner tag.
netlib::FirewallAttachment del_attachment(const cni::Request& req, const Config& cfg) {
    auto a = base_attachment(req, cfg);
    if (!req.conf.prev_result || cfg.policy != netlib::IngressPolicy::Isolated) {
        return a;
    }
    const auto& ifaces = req.conf.prev_result->interfaces;
    for (std::size_t i = 1; i < ifaces.size() && a.host_port.empty(); ++i) {
        if (ifaces[i].sandbox.empty()) {
            a.host_port = ifaces[i].name;
        }
    }
    if (a.host_port.empty()) {
        a.addresses.clear();
    }
    return a;
}

}  // namespace

cni::Result add(const cni::Request& req) {
    Config cfg = Config::parse(req);
    auto a = attachment(req, cfg);
    auto nft = plugin::needs_nftables("the firewall plugin", [] { return netlib::NftSocket{}; });
    netlib::firewall_add(nft, a);
    return *req.conf.prev_result;
}

void del(const cni::Request& req) {
    Config cfg = Config::parse(req, true);
    // A kernel without nftables holds no rule of ours.
    if (auto nft = netlib::NftSocket::if_kernel_has_nftables()) {
        netlib::firewall_del(*nft, del_attachment(req, cfg));
    }
}

void check(const cni::Request& req) {
    Config cfg = Config::parse(req);
    auto a = attachment(req, cfg);
    netlib::NftSocket nft;
    auto missing = netlib::firewall_missing(nft, a);
    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) {
            list += (list.empty() ? "" : "; ") + m;
        }
        throw cni::Error(cni::Code::Internal, "CHECK failed: nftables state is missing", list);
    }
}

void gc(const cni::Request& req) {
    // Without a list nothing is known to be stale: only an explicit (possibly empty) list
    // removes state.
    auto valid = cni::ValidAttachments::parse(req.config);
    if (!valid) {
        return;
    }
    auto nft = netlib::NftSocket::if_kernel_has_nftables();
    if (!nft) {
        return;  // nothing of ours to collect
    }
    auto host = netlib::RouteSocket::open();
    netlib::firewall_gc(*nft, host, req.conf.name, valid->pairs());
}

void status(const cni::Request&) {
    try {
        netlib::NftSocket nft;
        (void)netlib::firewall_list(nft, std::string{});
    } catch (const netlib::Error& e) {
        throw cni::Error(cni::Code::NotAvailable, "nftables is not available", e.what());
    }
}

}  // namespace firewall
