#include "plugins/bridge/bridge.hpp"

#include <cerrno>
#include <optional>

#include "netlib/addr.hpp"
#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/nft_macspoof.hpp"
#include "netlib/nft_masq.hpp"
#include "netlib/route.hpp"
#include "netlib/route_socket.hpp"
#include "netlib/sysctl.hpp"
#include "plugins/bridge/config.hpp"
#include "plugins/bridge/steps.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/rollback.hpp"
#include "plugins/common/container_iface.hpp"
#include "plugins/common/ipam_client.hpp"

namespace bridge {
namespace {

// Result layout shared with the reference: [bridge, host veth, container interface].
constexpr int kContainerIface = 2;

// Waits for the IPAM ADD started at the beginning of add() and fills in what the result needs.
cni::Result allocated(std::optional<plugin::PendingIpamAdd>& pending, const Config& cfg,
                      cni::Rollback& undo) {
    if (!pending) {
        return {};
    }
    cni::Result r = pending->take(undo);
    if (r.ips.empty()) {
        throw cni::Error(cni::Code::Internal, "IPAM plugin returned no IP addresses");
    }
    for (auto& ip : r.ips) {
        ip.interface = kContainerIface;
        if (cfg.is_gateway && !ip.gateway) {
            ip.gateway = ip.address.first().next();  // the reference's default: network + 1
        }
    }
    return r;
}

cni::Result make_result(const cni::Request& req, cni::Result ipam, const Attachment& att) {
    cni::Result r;
    r.interfaces = {{att.bridge.name, att.bridge.mac.to_string(), {}, {}, {}, {}},
                    {att.host.name, att.host.mac.to_string(), {}, {}, {}, {}},
                    {req.env.ifname, att.container.mac.to_string(), {}, req.env.netns, {}, {}}};
    if (att.vlan_gateway) {  // after the container's, so that "interface": 2 stays right
        r.interfaces.push_back(
            {att.vlan_gateway->name, att.vlan_gateway->mac.to_string(), {}, {}, {}, {}});
    }
    r.ips = std::move(ipam.ips);
    r.routes = std::move(ipam.routes);
    r.dns = req.conf.dns && !req.conf.dns->empty() ? *req.conf.dns : ipam.dns;
    return r;
}

}  // namespace

cni::Result add(const cni::Request& req) {
    Config cfg = Config::parse(req);
    // Started first, as it needs nothing else. Declared before `undo`, so that a failed ADD
    // releases the addresses after the links are gone.
    std::optional<plugin::PendingIpamAdd> pending;
    if (cfg.has_ipam) {
        pending.emplace(req, masquerade(req, cfg));
    }
    netlib::Netns netns = plugin::open_container_netns(req.env.netns);
    auto host = netlib::RouteSocket::open();
    auto ctr = netlib::RouteSocket::open_in(netns);
    // The IPAM release (and the masquerade element made with the allocation) has its own
    // rollback, declared before `undo` so that it runs after it: a failed ADD releases the
    // addresses only once the veth holding them is gone. Released earlier, a concurrent ADD
    // could be handed an address that the dying interface still has.
    cni::Rollback release;
    cni::Rollback undo;

    Attachment att;
    att.bridge = ensure_bridge(host, cfg);
    create_veth_pair(host, ctr, netns, req, cfg, att, undo);
    configure_port_vlans(host, cfg, att);
    cni::Result ipam = allocated(pending, cfg, release);
    configure_container(ctr, netns, req, cfg, att.container.index, ipam);
    if (cfg.is_gateway) {
        configure_gateway(host, cfg, gateway_link(host, cfg, att), ipam);
    }
    add_macspoof(req, cfg, att, undo);
    wait_port_enabled(host, cfg, att.host.index);
    undo.commit();
    release.commit();
    return make_result(req, std::move(ipam), att);
}

void del(const cni::Request& req) {
    Config cfg = Config::parse(req);
    plugin::BestEffort steps;
    // nftables state goes first, before the addresses are released (so that a concurrent ADD
    // handed the same address cannot lose its fresh element to this DEL) and before the veth:
    // the kernel frees a deleted element after an RCU grace period, and closing the netfilter
    // socket waits for that. Holding the socket open across the veth delete, which waits for
    // grace periods of its own, lets the two waits overlap instead of adding up.
    std::optional<netlib::NftSocket> nft;
    steps.run([&] {
        // A kernel without nftables holds no masquerade or spoof-check element: nothing to
        // remove, and DEL must still free the veth and the address.
        nft = netlib::NftSocket::if_kernel_has_nftables();
        if (nft) {
            remove_nft_state(*nft, req, cfg);
        }
    });
    steps.run([&] { remove_veth_pair(req, cfg); });
    nft.reset();
    if (cfg.has_ipam) {
        steps.run([&] { plugin::ipam_del(req); });
    }
    steps.finish();
}

}  // namespace bridge
