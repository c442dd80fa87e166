#include "tests/firewall/firewall_harness.hpp"

#include "tests/support/skip.hpp"

namespace sdnet::test {

void FirewallTest::SetUp() {
    FirewallHarness::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
        return;
    }
    SDNET_REQUIRE_KERNEL(KernelFeature::Nftables);
}

FwNet fw_net(const std::string& name, const std::string& bridge, const std::string& subnet,
             const std::string& policy, const std::string& version) {
    FwNet n;
    n.bridge = {{"cniVersion", version},
                {"name", name},
                {"type", "bridge"},
                {"bridge", bridge},
                {"isGateway", true},
                {"ipam",
                 {{"type", "host-local"},
                  {"ranges", {{{{"subnet", subnet}}}}},
                  {"routes", {{{"dst", "0.0.0.0/0"}}}}}}};
    n.firewall = {{"cniVersion", version}, {"name", name}, {"type", "firewall"}, {"backend", ""}};
    if (!policy.empty()) {
        n.firewall["ingressPolicy"] = policy;
    }
    return n;
}

std::vector<json> nft_rules(const std::string& family, const std::string& chain) {
    std::vector<json> out;
    auto ruleset = json::parse(observe("nft -j list ruleset"));
    for (const auto& item : ruleset["nftables"]) {
        if (item.contains("rule") && item["rule"]["family"] == family &&
            item["rule"]["table"] == "sdnet_firewall" && item["rule"]["chain"] == chain) {
            out.push_back(item["rule"]["expr"]);
        }
    }
    return out;
}

BridgeTest::Call FirewallHarness::fw(const std::string& command, const TestNetns& ns, json conf,
                                     const json& prev, const std::string& ifname) {
    if (!prev.is_null()) {
        conf["prevResult"] = prev;
    }
    return run(command, ns, conf, ifname, plugin_path("firewall"));
}

json FirewallHarness::attach(const TestNetns& ns, const FwNet& net, const std::string& ifname) {
    json prev = add(ns, net.bridge, ifname);
    results_[ns.name] = prev;
    auto c = fw("ADD", ns, net.firewall, prev, ifname);
    EXPECT_EQ(c.r.exit_code, 0) << c.r.out << c.r.err;
    return c.out;
}

}  // namespace sdnet::test
