#pragma once

#include <optional>

#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/nft.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/bridge/config.hpp"
#include "plugins/cni/rollback.hpp"
#include "plugins/cni/skel.hpp"
#include "plugins/common/ipam_client.hpp"

// The phases of a bridge ADD and DEL. Each ADD phase registers the undo of what it created.
namespace bridge {

struct Attachment {
    netlib::LinkInfo bridge;
    netlib::LinkInfo host;       // host end of the veth pair, a port of the bridge
    netlib::LinkInfo container;  // CNI_IFNAME in the container netns
    // `<bridge>.<vlan>`, the gateway's port on the container's VLAN (isGateway with `vlan`).
    std::optional<netlib::LinkInfo> vlan_gateway;
};

// Creates the bridge if missing (a concurrent creator also succeeds) and sets it up.
netlib::LinkInfo ensure_bridge(netlib::RouteSocket& host, const Config& cfg);

// One RTM_NEWLINK: host end on the bridge, peer created directly in the container netns.
void create_veth_pair(netlib::RouteSocket& host, netlib::RouteSocket& ctr,
                      const netlib::Netns& netns, const cni::Request& req, const Config& cfg,
                      Attachment& att, cni::Rollback& undo);

// The VLANs of the host end (`vlan`, `vlanTrunk`, `preserveDefaultVlan`), as the reference.
void configure_port_vlans(netlib::RouteSocket& host, const Config& cfg, const Attachment& att);

// Where the gateway addresses go: the bridge, or with `vlan` the `<bridge>.<vlan>` port that the
// first ADD on that VLAN creates (a veth whose other end is a port of the VLAN) and that stays
// for the other containers of the VLAN, as in the reference.
int gateway_link(netlib::RouteSocket& host, const Config& cfg, Attachment& att);

// Sysctls, addresses and routes inside the container.
void configure_container(netlib::RouteSocket& ctr, const netlib::Netns& netns,
                         const cni::Request& req, const Config& cfg, int ifindex,
                         cni::Result& ipam);

// Gateway addresses on the bridge and forwarding for the families in use.
void configure_gateway(netlib::RouteSocket& host, const Config& cfg, int bridge_index,
                       const cni::Result& ipam);

// The masquerade element for the allocated addresses (ipMasq), tagged with the attachment as
// owner; it runs on the IPAM thread, right after the allocation.
plugin::AfterAllocation masquerade(const cni::Request& req, const Config& cfg);

// The MAC spoof-check element (macspoofchk), tagged with the attachment as owner.
void add_macspoof(const cni::Request& req, const Config& cfg, const Attachment& att,
                  cni::Rollback& undo);

// Returns once the kernel has enabled the bridge port (its link watch can lag behind the veth's
// creation), so that the container's first frames are not dropped. Never fails the ADD: a port
// that is not enabled in time gets a warning on stderr; under STP it forwards only later.
void wait_port_enabled(netlib::RouteSocket& host, const Config& cfg, int port_index);

void remove_veth_pair(const cni::Request& req, const Config& cfg);
void remove_nft_state(netlib::NftSocket& nft, const cni::Request& req, const Config& cfg);

}  // namespace bridge
