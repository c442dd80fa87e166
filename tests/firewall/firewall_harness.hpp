#pragma once

#include <string>
#include <vector>

#include "tests/support/bridge_harness.hpp"

namespace sdnet::test {

// A bridge network (no masquerade, so addresses stay visible) plus a firewall config to chain
// after it.
struct FwNet {
    json bridge;
    json firewall;
};

FwNet fw_net(const std::string& name, const std::string& bridge, const std::string& subnet,
             const std::string& policy = "", const std::string& version = "1.0.0");

// Rules of chain `chain` of table `family` sdnet_firewall, as nft -j prints their expressions.
std::vector<json> nft_rules(const std::string& family, const std::string& chain);

// The bridge and firewall plugins, run as a runtime runs a chain.
class FirewallHarness : public BridgeTest {
protected:
    // Runs the firewall plugin with `prev` as prevResult (null: none).
    Call fw(const std::string& command, const TestNetns& ns, json conf, const json& prev,
            const std::string& ifname = "eth0");
    // bridge ADD then firewall ADD, both must succeed; returns the firewall's result.
    json attach(const TestNetns& ns, const FwNet& net, const std::string& ifname = "eth0");

    // The bridge plugin's result of the last attach() of `ns`.
    json bridge_result(const TestNetns& ns) { return results_[ns.name]; }

private:
    std::map<std::string, json> results_;
};

// What nearly every firewall test needs: nftables, which is what the plugin programs.
class FirewallTest : public FirewallHarness {
protected:
    void SetUp() override;
};

}  // namespace sdnet::test
