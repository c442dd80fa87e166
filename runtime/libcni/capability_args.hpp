#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

// Turning command-line style arguments into CNI capability args (CONVENTIONS.md), shared by the
// `sdnet` CLI and runtimes that attach networks. Every parser throws libcni::ArgumentError whose
// message quotes the text and says what was expected.
namespace libcni {

using nlohmann::json;

// "-p" syntax: [HOSTIP:]HOST[-HOST2]:CONTAINER[-CONTAINER2][/tcp|udp|sctp]. HOSTIP may be an
// IPv6 address in brackets ("[::1]:8080:80"). A range becomes one entry per port, as podman
// sends them. Returns a list of {"hostPort","containerPort","protocol"[,"hostIP"]} (the
// `portMappings` capability); the protocol defaults to tcp.
json parse_port_mappings(std::string_view spec);

// A rate in bits per second: an integer with an optional k/M/G (x1000) or Ki/Mi/Gi (x1024)
// suffix and an optional "bit" or "bps" after it, e.g. "10M", "10mbit", "500kbit", "1000000".
std::uint64_t parse_rate(std::string_view text);

// The burst used when none is given: an eighth of a second at `rate_bps`, but at least 512 Kibit
// so a slow rate still passes full-size packets (tbf drops packets larger than its burst).
std::uint64_t default_burst(std::uint64_t rate_bps);

struct BandwidthArgs {
    std::optional<std::uint64_t> ingress_rate;   // bits/s, towards the container
    std::optional<std::uint64_t> ingress_burst;  // bits
    std::optional<std::uint64_t> egress_rate;
    std::optional<std::uint64_t> egress_burst;
};

// The `bandwidth` capability value {ingressRate, ingressBurst, egressRate, egressBurst}; a
// direction without a rate is left out; a burst without its rate is an error. Null when no
// direction is set.
json bandwidth_capability(const BandwidthArgs& args);

// An address for the `ips` capability: "10.1.2.3" or "10.1.2.3/24" (normalised).
std::string parse_ip_arg(std::string_view text);

// A MAC for the `mac` capability, normalised to lower case with colons.
std::string parse_mac_arg(std::string_view text);

// One range set for the `ipRanges` capability from "SUBNET[,RANGESTART-RANGEEND][,gw=GATEWAY]":
// [{"subnet":..., "rangeStart":..., "rangeEnd":..., "gateway":...}].
json parse_ip_range_arg(std::string_view text);

}  // namespace libcni
