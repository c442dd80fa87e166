#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netlib/ip.hpp"
#include "netlib/nft_portmap.hpp"
#include "plugins/cni/skel.hpp"

namespace portmap {

// One entry of runtimeConfig.portMappings. `hostPortEnd` (sdnet's extension) publishes the
// range hostPort..hostPortEnd onto containerPort..containerPort + (hostPortEnd - hostPort).
struct PortMapEntry {
    netlib::L4Proto proto = netlib::L4Proto::Tcp;
    std::uint16_t host_port = 0;
    std::uint16_t host_port_end = 0;  // == host_port for a single port
    std::uint16_t container_port = 0;
    std::optional<netlib::IpAddr> host_ip;  // nullopt: every local address
};

// The portmap keys, with the reference plugin's names and defaults
// (containernetworking/plugins plugins/meta/portmap).
struct Config {
    bool snat = true;
    bool masq_all = false;
    int mark_masq_bit = 13;  // validated for compatibility; no packet mark is needed
    std::vector<netlib::PortmapMatch> conditions4;
    std::vector<netlib::PortmapMatch> conditions6;
    std::vector<PortMapEntry> mappings;

    // Throws cni::Error (code 7) naming the key for every invalid or unsupported value.
    static Config parse(const cni::Request& req);
};

// Parses conditionsV4/V6 (a list of strings, joined into one nft match expression) into the
// supported subset; throws cni::Error(7) naming `key` for iptables syntax or anything else.
std::vector<netlib::PortmapMatch> parse_conditions(const nlohmann::json& list, std::string_view key,
                                                   netlib::Family family);

}  // namespace portmap
