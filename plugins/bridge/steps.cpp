#include "plugins/bridge/steps.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>

#include <linux/if_bridge.h>

#include "netlib/addr.hpp"
#include "netlib/bridge_port_wait.hpp"
#include "netlib/bridge_vlan.hpp"
#include "netlib/error.hpp"
#include "netlib/nft_macspoof.hpp"
#include "netlib/nft_masq.hpp"
#include "netlib/route.hpp"
#include "netlib/sysctl.hpp"
#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/stdio.hpp"
#include "plugins/common/container_iface.hpp"
#include "plugins/common/needs_kernel.hpp"

namespace bridge {
namespace {

using plugin::ensure_sysctl;
using plugin::has_family;

constexpr int kVethNameTries = 10;

bool conflicts(const netlib::IpNet& have, const netlib::IpNet& gw) {
    if (have == gw || have.addr().to_string().starts_with("fe80:")) {
        return false;
    }
    // The reference's rule: one IPv4 address per bridge; IPv6 addresses only clash when their
    // subnets overlap.
    return gw.family() == netlib::Family::V4 || have.network().overlaps(gw.network());
}

// Puts the gateway address on the bridge. The address list is read first (the kernel dumps it
// without the RTNL lock), so the common case, an address already there, changes nothing.
void ensure_gateway_address(netlib::RouteSocket& host, const Config& cfg, int bridge_index,
                            const netlib::IpNet& gw) {
    auto have = netlib::list_addresses(host, bridge_index, gw.family());
    if (std::find(have.begin(), have.end(), gw) != have.end()) {
        return;
    }
    for (const auto& other : have) {
        if (!conflicts(other, gw)) {
            continue;
        }
        if (!cfg.force_address) {
            throw cni::Error(cni::Code::Internal,
                             "bridge \"" + cfg.bridge + "\" already has an IP address " +
                                 other.to_string() + " different from " + gw.to_string(),
                             "set \"forceAddress\" to replace it");
        }
        (void)netlib::remove_address(host, bridge_index, other);
    }
    try {
        netlib::add_address(host, bridge_index, gw, {true, false});
    } catch (const netlib::Error& e) {
        if (e.code() != EEXIST) {  // a concurrent ADD put it there first
            throw;
        }
    }
}

// Runs a step that needs bridge VLAN filtering; a kernel without it gets a named error.
template <class F>
auto vlan_step(const Config& cfg, F&& step) -> decltype(step()) {
    try {
        return step();
    } catch (const netlib::Error& e) {
        if (e.code() != EOPNOTSUPP || !cfg.vlan_filtering()) {
            throw;
        }
        throw cni::Error(cni::Code::UnsupportedField,
                         "\"vlan\" " + std::to_string(cfg.vlan) + " / \"vlanTrunk\" need " +
                             "bridge VLAN filtering, which this kernel does not support "
                             "(CONFIG_BRIDGE_VLAN_FILTERING)",
                         e.what());
    }
}

// A new port joins the bridge's default VLAN (normally 1) untagged; the reference removes it
// unless `preserveDefaultVlan`, then adds the native VLAN (`vlan`, else 1 for a trunk) and the
// trunk's tagged VLANs.
void set_port_vlans(netlib::RouteSocket& host, const Config& cfg, int bridge_index,
                    int port_index) {
    if (!cfg.preserve_default_vlan) {
        if (auto pvid = netlib::bridge_default_pvid(host, bridge_index)) {
            (void)netlib::remove_port_vlan(host, port_index, *pvid);
        }
    }
    std::uint16_t native = cfg.vlan != 0 ? cfg.vlan : 1;
    std::vector<netlib::BridgeVlan> vlans{{native, true, true}};
    for (std::uint16_t vid : cfg.vlan_trunk) {
        if (vid != native) {
            vlans.push_back({vid, false, false});
        }
    }
    netlib::add_port_vlans(host, port_index, vlans);
}

// `<bridge>.<vlan>`: a veth in the host namespace whose other end is an untagged port of the
// VLAN. A concurrent ADD may create it first; then its port is used.
netlib::LinkInfo create_vlan_gateway(netlib::RouteSocket& host, const Config& cfg,
                                     const netlib::LinkInfo& bridge, const std::string& name) {
    Config port_cfg = cfg;
    port_cfg.vlan_trunk.clear();
    for (int attempt = 0; attempt < kVethNameTries; ++attempt) {
        netlib::VethSpec spec{netlib::random_veth_name(), name,         nullptr, cfg.mtu,
                              netlib::MacAddr::random(),  bridge.index, true,    &host};
        spec.host_link_local = false;  // a bridge port
        try {
            netlib::LinkInfo port = netlib::create_veth(host, spec);
            try {
                vlan_step(cfg, [&] { set_port_vlans(host, port_cfg, bridge.index, port.index); });
            } catch (...) {
                (void)netlib::remove_link(host, port.index);
                throw;
            }
            break;
        } catch (const netlib::Error& e) {
            if (e.code() != EEXIST) {
                throw;
            }
            if (netlib::find_link(host, name)) {
                break;  // a concurrent ADD made it
            }
        }
    }
    auto gw = netlib::find_link(host, name);
    if (!gw) {
        throw cni::Error(cni::Code::Internal,
                         "failed to create the VLAN gateway port \"" + name + "\"");
    }
    return *gw;
}

netlib::MasqAttachment masq_of(const cni::Request& req, const cni::Result& ipam) {
    netlib::MasqAttachment m{req.conf.name, req.env.container_id, req.env.ifname, {}};
    for (const auto& ip : ipam.ips) {
        m.addresses.push_back(ip.address);
    }
    return m;
}

}  // namespace

netlib::LinkInfo ensure_bridge(netlib::RouteSocket& host, const Config& cfg) {
    // The common case is an existing bridge: one lookup, which the kernel answers without the
    // RTNL lock, instead of a create that fails with EEXIST under it.
    // promiscMode applies to an existing bridge too (as the reference's ADD and our CHECK say).
    if (auto br = netlib::find_link(host, cfg.bridge);
        br && br->kind == "bridge" && br->up && (br->promisc || !cfg.promisc_mode)) {
        return *br;
    }
    // A MAC chosen at creation pins it: otherwise the bridge takes the lowest MAC of its ports
    // and changes it as containers come and go.
    netlib::BridgeSpec spec{cfg.bridge, cfg.mtu, cfg.promisc_mode, netlib::MacAddr::random()};
    spec.vlan_filtering = cfg.vlan_filtering();
    return vlan_step(cfg, [&] { return netlib::ensure_bridge(host, spec); });
}

void configure_port_vlans(netlib::RouteSocket& host, const Config& cfg, const Attachment& att) {
    if (cfg.vlan != 0 || !cfg.vlan_trunk.empty()) {
        vlan_step(cfg, [&] { set_port_vlans(host, cfg, att.bridge.index, att.host.index); });
    }
}

int gateway_link(netlib::RouteSocket& host, const Config& cfg, Attachment& att) {
    if (cfg.vlan == 0) {
        return att.bridge.index;
    }
    std::string name = cfg.bridge + "." + std::to_string(cfg.vlan);
    if (auto problem = cni::ifname_problem(name)) {
        throw cni::config_error("the VLAN gateway port \"" + name + "\" of \"bridge\" and " +
                                "\"vlan\" is not a valid interface name: " + *problem);
    }
    att.vlan_gateway = netlib::find_link(host, name);
    if (!att.vlan_gateway) {
        att.vlan_gateway = create_vlan_gateway(host, cfg, att.bridge, name);
    }
    return att.vlan_gateway->index;
}

void create_veth_pair(netlib::RouteSocket& host, netlib::RouteSocket& ctr,
                      const netlib::Netns& netns, const cni::Request& req, const Config& cfg,
                      Attachment& att, cni::Rollback& undo) {
    // The container end's MAC is drawn here, as the kernel would draw it (random, locally
    // administered), so that the container interface is known without looking it up.
    const netlib::MacAddr mac = cfg.mac ? *cfg.mac : netlib::MacAddr::random();
    for (int attempt = 0;; ++attempt) {
        netlib::VethSpec spec{netlib::random_veth_name(), req.env.ifname, &netns, cfg.mtu, mac,
                              att.bridge.index,           true,           &ctr};
        spec.peer_arp_notify = !cfg.disable_container_interface;
        spec.host_link_local = false;  // a bridge port
        if (cfg.hairpin_mode || cfg.port_isolation) {
            spec.port_flags.hairpin = cfg.hairpin_mode;
            spec.port_flags.isolated = cfg.port_isolation;
        }
        try {
            att.host = netlib::create_veth(host, spec);
        } catch (const netlib::Error& e) {
            if (e.code() != EEXIST) {
                throw;
            }
            if (netlib::find_link(ctr, req.env.ifname)) {
                throw cni::Error(cni::Code::Internal, "container veth name \"" + req.env.ifname +
                                                          "\" already exists in " + req.env.netns);
            }
            if (attempt + 1 == kVethNameTries) {
                throw;
            }
            continue;  // the random host name was taken: draw again
        }
        break;
    }
    undo.add([&host, name = att.host.name] { (void)netlib::remove_link(host, name); });
    att.container.index = att.host.peer_index;  // the host end's IFLA_LINK
    att.container.name = req.env.ifname;
    att.container.kind = "veth";
    att.container.mac = mac;
    if (cfg.disable_container_interface) {
        netlib::set_up(ctr, att.container.index, false);
    }
}

void configure_container(netlib::RouteSocket& ctr, const netlib::Netns& netns,
                         const cni::Request& req, const Config& cfg, int ifindex,
                         cni::Result& ipam) {
    if (cfg.disable_container_interface) {
        return;
    }
    // arp_notify was set with the veth (over netlink).
    plugin::IfaceOptions opts{cfg.enable_dad, cfg.is_default_gateway, false};
    plugin::configure_container_iface(ctr, netns, req.env.ifname, ifindex, opts, ipam);
}

void configure_gateway(netlib::RouteSocket& host, const Config& cfg, int bridge_index,
                       const cni::Result& ipam) {
    for (const auto& ip : ipam.ips) {
        if (ip.gateway) {
            ensure_gateway_address(host, cfg, bridge_index, {*ip.gateway, ip.address.prefix()});
        }
    }
    if (has_family(ipam, netlib::Family::V4)) {
        ensure_sysctl("net/ipv4/ip_forward", "1");
    }
    if (has_family(ipam, netlib::Family::V6)) {
        ensure_sysctl("net/ipv6/conf/all/forwarding", "1");
    }
}

plugin::AfterAllocation masquerade(const cni::Request& req, const Config& cfg) {
    if (!cfg.ip_masq) {
        return {};
    }
    // Without addresses there is nothing to add, and masq_del of no addresses would mean "every
    // element of this owner", a walk of the whole set.
    return {[&req](const cni::Result& ipam) {
                if (!ipam.ips.empty()) {
                    plugin::needs_nftables("\"ipMasq\"",
                                           [&] { netlib::masq_add(masq_of(req, ipam)); });
                }
            },
            [&req](const cni::Result& ipam) {
                if (!ipam.ips.empty()) {
                    netlib::masq_del(masq_of(req, ipam));
                }
            }};
}

void add_macspoof(const cni::Request& req, const Config& cfg, const Attachment& att,
                  cni::Rollback& undo) {
    if (cfg.macspoofchk) {
        netlib::MacspoofAttachment spoof{req.conf.name, req.env.container_id, req.env.ifname,
                                         att.host.name, att.container.mac};
        plugin::needs_nftables("\"macspoofchk\"", [&] { netlib::macspoof_add(spoof); });
        undo.add([spoof] { netlib::macspoof_del(spoof); });
    }
}

void wait_port_enabled(netlib::RouteSocket& host, const Config& cfg, int port_index) {
    if (cfg.disable_container_interface) {
        return;  // the container end is down: no carrier, the port stays disabled until it is up
    }
    // Carrier is applied within a link watch run (at most a second); the bound only matters for
    // a port that something else keeps down.
    constexpr std::chrono::seconds kCarrierBound{2};
    if (netlib::wait_bridge_port_enabled(host, port_index, kCarrierBound) == BR_STATE_DISABLED) {
        cni::warn("bridge port #" + std::to_string(port_index) +
                  " is still disabled; the container's first frames may be dropped");
    }
}

void remove_veth_pair(const cni::Request& req, const Config& cfg) {
    if (!req.env.netns.empty()) {
        if (auto netns = netlib::Netns::try_open(req.env.netns)) {
            auto ctr = netlib::RouteSocket::open_in(*netns);
            (void)netlib::remove_link(ctr, req.env.ifname);
            return;
        }
    }
    // No container netns to look in: if it still exists somewhere, the host end is the one the
    // ADD result named (interfaces[1]); deleting it deletes the pair.
    const auto& prev = req.conf.prev_result;
    if (prev && prev->interfaces.size() > 1 && prev->interfaces[1].sandbox.empty()) {
        auto host = netlib::RouteSocket::open();
        auto link = netlib::find_link(host, prev->interfaces[1].name);
        auto br = netlib::find_link(host, cfg.bridge);
        if (link && link->kind == "veth" && br && link->master == br->index) {
            (void)netlib::remove_link(host, link->index);
        }
    }
}

void remove_nft_state(netlib::NftSocket& nft, const cni::Request& req, const Config& cfg) {
    (void)cfg;  // DEL also cleans state when the config changed since ADD
    // With prevResult the elements are deleted by key (cost independent of the number of
    // containers); without it, by matching the owner over all elements.
    cni::Result prev = req.conf.prev_result.value_or(cni::Result{});
    netlib::masq_del(nft, masq_of(req, prev));
    netlib::macspoof_del(nft, netlib::MacspoofAttachment{
                                  req.conf.name, req.env.container_id, req.env.ifname, {}, {}});
}

}  // namespace bridge
