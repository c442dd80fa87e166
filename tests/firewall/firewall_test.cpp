// The firewall plugin's nftables state as a user sees it (`nft -j`), through ADD, DEL, CHECK,
// GC and STATUS, and its answers to bad configurations.
#include <gtest/gtest.h>

#include "tests/firewall/firewall_harness.hpp"
#include "tests/support/skip.hpp"

namespace sdnet::test {
namespace {

using Firewall = FirewallTest;
using Strings = std::vector<std::string>;

FwNet dual_stack(const std::string& policy = "") {
    FwNet n = fw_net("fwnet", "fwbr0", "10.90.1.0/24", policy);
    n.bridge["ipam"]["ranges"].push_back({{{"subnet", "fd90:1::/64"}}});
    n.bridge["ipam"]["routes"].push_back({{"dst", "::/0"}});
    return n;
}

TEST_F(Firewall, AddPassesPrevResultThroughAndAcceptsTheContainersAddresses) {
    auto c1 = make_netns("c1");
    FwNet net = dual_stack();
    json out = attach(c1, net);
    json prev = bridge_result(c1);
    EXPECT_EQ(out, prev);
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr4"), (Strings{"10.90.1.2"}));
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr6"), (Strings{"fd90:1::2"}));
    // The owner tag is the element's comment.
    auto sets = json::parse(observe("nft -j list set inet sdnet_firewall ctr4"));
    EXPECT_NE(sets.dump().find("sdnet net=fwnet cid=ctr-" + c1.name + " if=eth0"),
              std::string::npos)
        << sets.dump();
    // forward: isolation drop, jump admin, then per family the established and source accepts.
    auto rules = nft_rules("inet", "forward");
    ASSERT_EQ(rules.size(), 6u);
    EXPECT_NE(rules[1].dump().find(R"("jump":{"target":"admin"})"), std::string::npos)
        << rules[1].dump();
    EXPECT_NE(rules[2].dump().find("established"), std::string::npos) << rules[2].dump();
    EXPECT_NE(rules[3].dump().find("@ctr4"), std::string::npos) << rules[3].dump();
    // Policy open: nothing in the bridge family, no isolated bridge.
    EXPECT_TRUE(nft_elements("sdnet_firewall", "isolated").empty());
    EXPECT_TRUE(nft_rules("bridge", "forward").empty());
}

TEST_F(Firewall, PodmansGeneratedConfigWorks) {
    // podman network create: cniVersion 0.4.0, {"type":"firewall","backend":""}.
    auto c1 = make_netns("c1");
    FwNet net = fw_net("podnet", "cni-podman1", "10.89.0.0/24", "", "0.4.0");
    json out = attach(c1, net);
    EXPECT_EQ(out["ips"][0]["address"], "10.89.0.2/24");
    EXPECT_EQ(out["ips"][0]["version"], "4");
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr4"), (Strings{"10.89.0.2"}));
    // podman network create --opt isolate=true adds ingressPolicy same-bridge.
    auto c2 = make_netns("c2");
    FwNet iso = fw_net("podiso", "cni-podman2", "10.89.1.0/24", "same-bridge", "0.4.0");
    attach(c2, iso);
    EXPECT_EQ(nft_elements("sdnet_firewall", "isolated"), (Strings{"cni-podman2"}));
}

TEST_F(Firewall, DelRemovesOnlyItsOwnElementsAndTwiceIsFine) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    FwNet net = dual_stack();
    attach(c1, net);
    attach(c2, net);
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr4"), (Strings{"10.90.1.2", "10.90.1.3"}));
    for (int i = 0; i < 2; ++i) {
        auto del = fw("DEL", c1, net.firewall, bridge_result(c1));
        EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
        EXPECT_TRUE(del.r.out.empty()) << del.r.out;
    }
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr4"), (Strings{"10.90.1.3"}));
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr6"), (Strings{"fd90:1::3"}));
}

TEST_F(Firewall, DelWithoutPrevResultFindsTheElementsByOwner) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    FwNet net = dual_stack("isolated");
    attach(c1, net);
    attach(c2, net);
    EXPECT_EQ(nft_elements("sdnet_firewall", "isolated_ports").size(), 2u);
    auto del = fw("DEL", c1, net.firewall, nullptr);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr4"), (Strings{"10.90.1.3"}));
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr6"), (Strings{"fd90:1::3"}));
    std::string port = bridge_result(c2)["interfaces"][1]["name"];
    EXPECT_EQ(nft_elements("sdnet_firewall", "isolated_ports"), (Strings{port}));
}

TEST_F(Firewall, DelSucceedsWhenNothingIsThereAndForConfigsAddRefuses) {
    auto c1 = make_netns("c1");
    FwNet net = dual_stack();
    // No table at all yet.
    auto del = fw("DEL", c1, net.firewall, nullptr);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    // A chain whose ADD failed here is still torn down: DEL accepts what ADD refused.
    json bad = net.firewall;
    bad["backend"] = "firewalld";
    bad["ingressPolicy"] = "bogus";
    del = fw("DEL", c1, bad, nullptr);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    // With the netns gone.
    attach(c1, net);
    observe("ip netns del " + c1.name);
    del = fw("DEL", c1, net.firewall, bridge_result(c1));
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    EXPECT_TRUE(nft_elements("sdnet_firewall", "ctr4").empty());
}

TEST_F(Firewall, CheckPassesAfterAddAndFailsWhenAnElementIsGone) {
    auto c1 = make_netns("c1");
    FwNet net = dual_stack("isolated");
    attach(c1, net);
    json prev = bridge_result(c1);
    auto check = fw("CHECK", c1, net.firewall, prev);
    EXPECT_EQ(check.r.exit_code, 0) << check.r.out;

    observe("nft delete element inet sdnet_firewall ctr6 '{ fd90:1::2 }'");
    check = fw("CHECK", c1, net.firewall, prev);
    EXPECT_NE(check.r.exit_code, 0);
    EXPECT_EQ(check.code(), 999) << check.r.out;
    EXPECT_NE(check.out.value("details", "").find("fd90:1::2"), std::string::npos) << check.r.out;

    check = fw("CHECK", c1, net.firewall, nullptr);
    EXPECT_EQ(check.code(), 7) << check.r.out;
}

TEST_F(Firewall, CheckNoticesAMissingIsolatedPort) {
    auto c1 = make_netns("c1");
    FwNet net = dual_stack("isolated");
    attach(c1, net);
    std::string port = bridge_result(c1)["interfaces"][1]["name"];
    observe("nft delete element bridge sdnet_firewall isolated_ports '{ \"" + port + "\" }'");
    auto check = fw("CHECK", c1, net.firewall, bridge_result(c1));
    EXPECT_EQ(check.code(), 999) << check.r.out;
    EXPECT_NE(check.out.value("details", "").find(port), std::string::npos) << check.r.out;
}

TEST_F(Firewall, GcRemovesStaleAttachmentsAndBridgesThatAreGone) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    FwNet net = dual_stack("same-bridge");
    net.firewall["cniVersion"] = net.bridge["cniVersion"] = "1.1.0";
    attach(c1, net);
    attach(c2, net);
    json gc = {{"cniVersion", "1.1.0"}, {"name", "fwnet"}, {"type", "firewall"}};

    // Without the key nothing is known to be stale.
    auto r = fw("GC", c1, gc, nullptr);
    EXPECT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr4").size(), 2u);

    gc["cni.dev/valid-attachments"] = {{{"containerID", "ctr-" + c2.name}, {"ifname", "eth0"}}};
    r = fw("GC", c1, gc, nullptr);
    EXPECT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr4"), (Strings{"10.90.1.3"}));
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr6"), (Strings{"fd90:1::3"}));
    // The bridge still exists: its isolation stays.
    EXPECT_EQ(nft_elements("sdnet_firewall", "isolated"), (Strings{"fwbr0"}));
    EXPECT_EQ(nft_elements("sdnet_firewall", "same").size(), 1u);

    observe("ip link del fwbr0");
    gc["cni.dev/valid-attachments"] = json::array();
    r = fw("GC", c1, gc, nullptr);
    EXPECT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_TRUE(nft_elements("sdnet_firewall", "ctr4").empty());
    EXPECT_TRUE(nft_elements("sdnet_firewall", "isolated").empty());
    EXPECT_TRUE(nft_elements("sdnet_firewall", "same").empty());
}

TEST_F(Firewall, GcLeavesOtherNetworksAlone) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    attach(c1, fw_net("neta", "fwbra", "10.90.1.0/24", "same-bridge", "1.1.0"));
    attach(c2, fw_net("netb", "fwbrb", "10.90.2.0/24", "same-bridge", "1.1.0"));
    observe("ip link del fwbrb");
    json gc = {{"cniVersion", "1.1.0"},
               {"name", "neta"},
               {"type", "firewall"},
               {"cni.dev/valid-attachments", json::array()}};
    auto r = fw("GC", c1, gc, nullptr);
    EXPECT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr4"), (Strings{"10.90.2.2"}));
    EXPECT_EQ(nft_elements("sdnet_firewall", "isolated"), (Strings{"fwbra", "fwbrb"}));
}

TEST_F(Firewall, StatusAnswersOk) {
    auto c1 = make_netns("c1");
    json conf = {{"cniVersion", "1.1.0"}, {"name", "fwnet"}, {"type", "firewall"}};
    auto r = fw("STATUS", c1, conf, nullptr);
    EXPECT_EQ(r.r.exit_code, 0) << r.r.out;
}

TEST_F(Firewall, EveryBadKeyIsAClearError) {
    auto c1 = make_netns("c1");
    FwNet net = dual_stack();
    json prev = add(c1, net.bridge);

    struct Case {
        const char* key;
        json value;
        int code;
        const char* says;
    };

    const Case cases[] = {
        {"backend", "firewalld", 2, "firewalld"},
        {"backend", "ebtables", 7, "backend"},
        {"backend", 1, 7, "backend"},
        {"ingressPolicy", "closed", 7, "ingressPolicy"},
        {"ingressPolicy", true, 7, "ingressPolicy"},
        {"iptablesAdminChainName", 5, 7, "iptablesAdminChainName"},
        {"firewalldZone", json::array(), 7, "firewalldZone"},
    };
    for (const auto& c : cases) {
        json conf = net.firewall;
        conf[c.key] = c.value;
        auto r = fw("ADD", c1, conf, prev);
        EXPECT_NE(r.r.exit_code, 0) << c.key;
        EXPECT_EQ(r.code(), c.code) << c.key << ": " << r.r.out;
        EXPECT_NE(r.out.value("msg", "").find(c.says), std::string::npos) << r.r.out;
    }
    EXPECT_TRUE(nft_elements("sdnet_firewall", "ctr4").empty());

    // Chained first: no prevResult.
    auto r = fw("ADD", c1, net.firewall, nullptr);
    EXPECT_EQ(r.code(), 7) << r.r.out;
    EXPECT_NE(r.out.value("msg", "").find("prevResult"), std::string::npos) << r.r.out;

    // An ingress policy behind something that is not a bridge.
    json not_bridge = prev;
    not_bridge["interfaces"] = json::array({prev["interfaces"][2]});
    json conf = net.firewall;
    conf["ingressPolicy"] = "same-bridge";
    r = fw("ADD", c1, conf, not_bridge);
    EXPECT_EQ(r.code(), 7) << r.r.out;
    EXPECT_NE(r.out.value("msg", "").find("needs a bridge"), std::string::npos) << r.r.out;
    not_bridge["interfaces"] = json::array({prev["interfaces"][1], prev["interfaces"][2]});
    r = fw("ADD", c1, conf, not_bridge);
    EXPECT_EQ(r.code(), 7) << r.r.out;
    EXPECT_NE(r.out.value("msg", "").find("is not a bridge"), std::string::npos) << r.r.out;
}

TEST_F(Firewall, KeysSdnetIgnoresAreAccepted) {
    auto c1 = make_netns("c1");
    FwNet net = dual_stack();
    net.firewall["backend"] = "iptables";
    net.firewall["iptablesAdminChainName"] = "MY-ADMIN";
    net.firewall["firewalldZone"] = "trusted";
    net.firewall["INGRESSPOLICY"] = "open";  // keys match case-insensitively
    attach(c1, net);
    EXPECT_EQ(nft_elements("sdnet_firewall", "ctr4"), (Strings{"10.90.1.2"}));
}

// Every kernel: where the kernel lacks nftables, ADD names it (code 2) and DEL works; where it
// has it, both work.
using FirewallAnyKernel = FirewallHarness;

TEST_F(FirewallAnyKernel, AddNamesMissingNftablesAndDelAlwaysWorks) {
    auto c1 = make_netns("c1");
    FwNet net = fw_net("fwnet", "fwbr0", "10.90.1.0/24");
    json prev = add(c1, net.bridge);
    bool lacks = missing_kernel_feature(KernelFeature::Nftables).has_value();
    auto r = fw("ADD", c1, net.firewall, prev);
    if (lacks) {
        EXPECT_EQ(r.code(), 2) << r.r.out;
        EXPECT_NE(r.out.value("msg", "").find("nftables"), std::string::npos) << r.r.out;
    } else {
        EXPECT_EQ(r.r.exit_code, 0) << r.r.out;
    }
    auto del = fw("DEL", c1, net.firewall, prev);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
}

}  // namespace
}  // namespace sdnet::test
