#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/netns_fixture.hpp"

namespace sdnet::test {

using nlohmann::json;

// Runs a command line (a test observer such as `ip -j`), returning its stdout; fails the test
// on a non-zero exit.
std::string observe(const std::string& cmd);
// `ip -j <args>` parsed.
json ip_json(const std::string& args);
// Every element of `nft -j list ruleset` in set/map `set` of table `table` as "key" strings.
std::vector<std::string> nft_elements(const std::string& table, const std::string& set);
// Files under the private host-local data dir of `network`, sorted.
std::vector<std::string> reservations(const std::string& network);
// Interfaces of the current netns whose master is `bridge`.
std::vector<std::string> bridge_ports(const std::string& bridge);
// Sends one ping from netns `ns_name` to `addr`; true if answered.
bool ping(const std::string& ns_name, const std::string& addr);

// A bridge network config (cniVersion, bridge name, subnets) in the shape of
// conf/10-sdnet-bridge.conflist's first plugin.
json bridge_conf(const std::string& version = "1.0.0");
// bridge_conf() without masquerade: for tests whose subject is not masquerade, which then need
// no nftables (kernels without it run them too).
json unmasqueraded_bridge_conf(const std::string& version = "1.0.0");

class BridgeTest : public NetnsTest {
protected:
    struct Call {
        CmdResult r;
        json out;  // stdout parsed (null when empty)

        int code() const { return out.is_object() ? out.value("code", 0) : 0; }
    };

    Call run(const std::string& command, const TestNetns& ns, const json& conf,
             const std::string& ifname = "eth0", const std::string& binary = "");
    Call run_env(std::map<std::string, std::string> env, const json& conf,
                 const std::string& binary = "");
    // ADD that must succeed.
    json add(const TestNetns& ns, const json& conf, const std::string& ifname = "eth0");
};

}  // namespace sdnet::test
