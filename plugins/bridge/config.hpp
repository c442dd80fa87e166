#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netlib/ip.hpp"
#include "plugins/cni/skel.hpp"

namespace bridge {

// The bridge plugin's keys, with the reference plugin's names and defaults
// (containernetworking/plugins plugins/main/bridge).
struct Config {
    std::string bridge = "cni0";
    bool is_gateway = false;
    bool is_default_gateway = false;  // implies is_gateway
    bool force_address = false;
    bool ip_masq = false;
    std::optional<unsigned> mtu;
    bool hairpin_mode = false;
    bool promisc_mode = false;
    bool macspoofchk = false;
    bool enable_dad = false;
    bool port_isolation = false;
    bool disable_container_interface = false;
    std::optional<netlib::MacAddr> mac;  // runtimeConfig.mac > args.cni.mac > CNI_ARGS MAC
    bool has_ipam = false;
    // `vlan`: the port's native VLAN (pvid, untagged), 0 for none. `vlanTrunk`: tagged VLANs,
    // sorted and unique. Either turns VLAN filtering on for a bridge this ADD creates.
    std::uint16_t vlan = 0;
    std::vector<std::uint16_t> vlan_trunk;
    bool vlan_trunk_given = false;       // the key is there, even as []: the reference's rule
    bool preserve_default_vlan = false;  // the reference's default since v1.8.0

    bool vlan_filtering() const { return vlan != 0 || vlan_trunk_given; }

    // Throws cni::Error naming the key for every invalid or unsupported value.
    static Config parse(const cni::Request& req);
};

}  // namespace bridge
