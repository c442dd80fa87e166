#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "netlib/route_socket.hpp"

// Bridge VLAN filtering (802.1Q on a Linux bridge): the bridge-wide switch and the VLANs of a
// port, as `ip link set BR type bridge vlan_filtering 1` and `bridge vlan add/del` do. A kernel
// built without CONFIG_BRIDGE_VLAN_FILTERING answers EOPNOTSUPP, which these report as
// netlib::Error with that code for the caller to name.
namespace netlib {

// One VLAN of a bridge port. `pvid`: untagged frames entering the port join this VLAN;
// `untagged`: frames of this VLAN leave the port without a tag.
struct BridgeVlan {
    std::uint16_t vid = 0;  // 1..4094
    bool pvid = false;
    bool untagged = false;
};

// Turns VLAN filtering on for bridge `bridge_index` (IFLA_BR_VLAN_FILTERING = 1).
void enable_vlan_filtering(RouteSocket& sock, int bridge_index);

// The VLAN a new port of the bridge joins untagged (IFLA_BR_VLAN_DEFAULT_PVID, normally 1);
// nullopt when the bridge has none (0) or the kernel does not report it.
[[nodiscard]] std::optional<std::uint16_t> bridge_default_pvid(RouteSocket& sock, int bridge_index);

// Adds `vlans` to port `port_index` in one AF_BRIDGE RTM_SETLINK (runs of consecutive plain
// VLANs as ranges). Adding a VLAN that is there already updates its flags.
void add_port_vlans(RouteSocket& sock, int port_index, const std::vector<BridgeVlan>& vlans);

// Removes VLAN `vid` from port `port_index`; false when the port did not have it.
bool remove_port_vlan(RouteSocket& sock, int port_index, std::uint16_t vid);

}  // namespace netlib
