#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "netlib/ip.hpp"
#include "netlib/link.hpp"

namespace netlib {

class RouteSocket;

// VXLAN devices (RFC 7348), in the network namespace of `sock`. Errors are netlib::Error naming
// the operation and the device.

struct VxlanSpec {
    std::string name;
    std::uint32_t vni = 0;        // 1..16777215
    std::uint16_t port = 4789;    // UDP destination port (the kernel's default is 8472)
    std::optional<IpAddr> local;  // source address of the encapsulated packets
    std::optional<IpAddr> group;  // multicast group that floods unknown destinations
    int link = 0;                 // underlay device (0: the route to the peer decides)
    bool learning = true;         // learn remote MACs from received packets
    // DF on the outer header (IFLA_VXLAN_DF set): an encapsulated packet too big for the underlay
    // is refused with "fragmentation needed" to its sender instead of being fragmented.
    bool df = false;
    std::optional<unsigned> mtu;  // default: the kernel's (underlay minus headroom)
    std::optional<MacAddr> mac;   // default: random
    int master = 0;               // enslave to this bridge (0: none)
    bool up = false;
    // false: no IPv6 link-local address (addrgenmode none): a bridge port or a routed overlay
    // device has no use for one, and without it the kernel sends no MLD reports over the overlay.
    bool link_local = true;
};

// What the kernel reports of a VXLAN device (IFLA_INFO_DATA).
struct VxlanInfo {
    std::uint32_t vni = 0;
    std::uint16_t port = 0;
    std::optional<IpAddr> local;
    std::optional<IpAddr> group;
    int link = 0;
    bool learning = false;
    bool df = false;

    bool operator==(const VxlanInfo&) const = default;
};

// One RTM_NEWLINK (NLM_F_CREATE|NLM_F_EXCL): EEXIST when the name is taken. Throws
// std::invalid_argument for a VNI outside 1..16777215, a group that is not multicast, or local
// and group of different families. Returns the new link.
[[nodiscard]] LinkInfo create_vxlan(RouteSocket& sock, const VxlanSpec& spec);

// The VXLAN settings of link `index`; nullopt when it does not exist or is not a VXLAN device.
[[nodiscard]] std::optional<VxlanInfo> vxlan_info(RouteSocket& sock, int index);

}  // namespace netlib
