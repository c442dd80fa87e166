#pragma once

#include <cstdint>
#include <string>

#include "tests/support/bridge_harness.hpp"

namespace sdnet::test {

// A bandwidth config chained after the bridge of conf/10-sdnet-bridge.conflist (same network
// name), with the given limits at the top level (0 = key absent).
json bandwidth_conf(std::uint64_t ingress_rate, std::uint64_t ingress_burst,
                    std::uint64_t egress_rate, std::uint64_t egress_burst,
                    const std::string& version = "1.0.0");

// `tc -j qdisc show dev <dev>` (in netns `ns` when not empty).
json tc_qdiscs(const std::string& ns, const std::string& dev);
// The qdisc of `kind` in `qdiscs`, or null.
json qdisc_of_kind(const json& qdiscs, const std::string& kind);
// `tc -j filter show dev <dev> ingress`.
json tc_ingress_filters(const std::string& ns, const std::string& dev);
// The name of every mirred target in `filters` ("to_dev").
std::vector<std::string> mirred_targets(const json& filters);
// `ip -j -d link show type ifb` (in `ns` when not empty).
json ifb_links(const std::string& ns);
// `ip -j link show <dev>`[0], or null when it does not exist.
json link_of(const std::string& ns, const std::string& dev);
// The host-side interface of a bridge result (interfaces[1]).
std::string host_veth(const json& bridge_result);

// The bridge plugin followed by the bandwidth plugin, run as a runtime runs a chain.
class BandwidthTest : public BridgeTest {
protected:
    // bridge ADD (must succeed); returns its result.
    json attach(const TestNetns& ns);
    // `command` of the bandwidth plugin (ours, or `binary`) with `prev` as prevResult (none
    // when null).
    Call bandwidth(const std::string& command, const TestNetns& ns, json conf, const json& prev,
                   const std::string& ifname = "eth0", const std::string& binary = "");
};

}  // namespace sdnet::test
