#pragma once

#include <optional>
#include <vector>

#include "netlib/ip.hpp"
#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/vxlan/config.hpp"

// The per-node, per-network part of the vxlan plugin: the VXLAN device and what it knows of the
// other nodes (FDB remotes, and in routed mode neighbours and routes). Shared by every container
// of the network on this node; made idempotently, safe under concurrent ADDs.
namespace vxlan {

// Where the encapsulated packets go out: the underlay device, this node's underlay address and
// the MTU left to the overlay.
struct Underlay {
    netlib::LinkInfo link;
    std::optional<netlib::IpAddr> self;  // this node's address among `local`, `peers`, `dev`'s
    netlib::Family family = netlib::Family::V4;
    unsigned overlay_mtu = 0;  // `mtu`, or the underlay's minus 50 (IPv4) / 70 (IPv6)
};

// Code 7 for a `dev` that does not exist or a `local` that is not an address of this host.
Underlay find_underlay(netlib::RouteSocket& host, const Config& cfg);

// The peers that are not this node.
std::vector<Peer> remote_peers(const Config& cfg, const Underlay& u);

// The MAC of a node's VXLAN device in routed mode, derived from its underlay address and the VNI
// so that every node knows every other's without asking it (flannel keeps it in its datastore).
netlib::MacAddr vtep_mac(std::uint32_t vni, const netlib::IpAddr& underlay);

// Creates the VXLAN device, or adopts the one a concurrent or earlier ADD made; one with another
// VNI or port is refused (code 7 naming both). In L2 mode it is a port of `bridge_index`.
netlib::LinkInfo ensure_device(netlib::RouteSocket& host, const Config& cfg, const Underlay& u,
                               int bridge_index);

// Makes the device's FDB (and in routed mode its neighbours and routes) what `peers` says:
// missing entries are added, entries of peers no longer listed are removed.
void converge(netlib::RouteSocket& host, const Config& cfg, const Underlay& u, int device_index);

// CHECK: the device, its VNI, port and master, and the entries converge() makes. Code 999.
void check_overlay(netlib::RouteSocket& host, const Config& cfg, const Underlay& u);

// Removes the device (its FDB, neighbours and routes go with it) and the bridge, when no
// container port is left on the bridge. Returns whether it did.
bool remove_if_unused(netlib::RouteSocket& host, const Config& cfg);

}  // namespace vxlan
