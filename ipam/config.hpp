#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipam/range.hpp"
#include "ipam/store.hpp"
#include "netlib/ip.hpp"
#include "plugins/cni/types.hpp"

// Configuration of host-local, read the way the reference's backend/allocator/config.go reads it
// (keys match case-insensitively, unknown keys are ignored), validated more strictly. Pure: no
// file or system access.
namespace ipam {

// An address the runtime asked for, and where it came from ("runtimeConfig.ips[0]").
struct RequestedIp {
    netlib::IpAddr ip;
    std::string source;

    bool operator==(const RequestedIp&) const = default;
};

// Where a network's reservations live: <data_dir>/<network>.
struct Location {
    std::string network;   // the configuration's "name"
    std::string data_dir;  // ipam.dataDir; empty means /var/lib/cni/networks

    bool operator==(const Location&) const = default;
};

struct Config {
    Location location;
    // runtimeConfig.ipRanges (capability "ipRanges"), then the legacy top-level range
    // (ipam.subnet, rangeStart, rangeEnd, gateway), then ipam.ranges: the reference's order.
    std::vector<RangeSet> range_sets;
    std::vector<cni::Route> routes;  // ipam.routes, copied into the result
    std::string resolv_conf;         // ipam.resolvConf, a path
    // CNI_ARGS IP, then args.cni.ips, then runtimeConfig.ips (capability "ips"); duplicates
    // removed.
    std::vector<RequestedIp> requested;
};

// Parses and validates a host-local call's configuration. `config` is the whole plugin
// configuration (the "ipam" object plus the top-level name, cniVersion, runtimeConfig and args);
// `cni_args` is CNI_ARGS. Throws cni::Error: code 7 naming the key and the value for anything
// invalid in the configuration (malformed or misplaced addresses, subnets too small or with host
// bits, start after end, overlaps, mixed families, ...); code 4 for CNI_ARGS (unknown keys
// without IgnoreUnknown=1, a malformed IP=).
Config parse_config(const nlohmann::json& config, std::string_view cni_args);

// Only the network name and dataDir: DEL and GC need nothing else, and must work even when the
// ranges no longer validate. Throws cni::Error(7).
Location parse_location(const nlohmann::json& config);

// Parses resolv.conf text as the reference does: "nameserver", "domain", "search" and "options"
// lines; comments ('#', ';') and anything else are skipped.
cni::Dns parse_resolv_conf(std::string_view text);

}  // namespace ipam
