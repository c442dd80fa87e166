#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netlib/ip.hpp"
#include "plugins/cni/skel.hpp"

namespace vxlan {

enum class Mode { L2, Routed };

// A remote node: its underlay address and, in routed mode, the container subnets it owns.
struct Peer {
    netlib::IpAddr address;
    std::vector<netlib::IpNet> subnets;
};

// The overlay's keys; the container side (`bridge`, `isGateway`, `ipMasq`, `ipam`, ...) is the
// bridge plugin's and is read by it.
struct Config {
    Mode mode = Mode::L2;
    std::uint32_t vni = 0;
    std::uint16_t port = 4789;
    std::string dev;                      // underlay device name, "" when not given
    std::optional<netlib::IpAddr> local;  // underlay address of this node
    std::optional<netlib::IpAddr> group;  // multicast flooding (L2 mode)
    bool learning = true;
    std::optional<unsigned> mtu;  // default: the underlay's minus the encapsulation
    std::string bridge;           // the per-network bridge
    std::string device;           // the VXLAN device, `vxlanName`, default "vx-<bridge>"
    std::vector<Peer> peers;      // may list this node too: it is skipped
    // The subnets the IPAM configuration hands out on this node (ranges/subnet), for the overlap
    // check against the peers'.
    std::vector<netlib::IpNet> local_subnets;

    // Throws cni::Error code 7 naming the key for every invalid value, code 2 for a bridge key the
    // overlay does not support.
    static Config parse(const cni::Request& req);

    // Code 7 when a subnet of one node overlaps another node's (this node's IPAM subnets
    // included). `self`: this node's underlay address; its entry in `peers` is this node.
    void check_subnets(const std::optional<netlib::IpAddr>& self) const;
};

}  // namespace vxlan
