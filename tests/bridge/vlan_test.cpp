// Bridge VLANs (`vlan`, `vlanTrunk`, `preserveDefaultVlan`). The host kernel of these machines
// has no bridge VLAN filtering, so the kernel tests run under user-mode Linux (ctest
// Uml.bridge_plugin_test, scripts/uml-run); on the host they skip as a known gap. What every kernel
// must do (parse errors, a clean refusal where filtering is missing, DEL) runs on both.
#include <gtest/gtest.h>

#include "tests/support/bridge_harness.hpp"
#include "tests/support/skip.hpp"

namespace sdnet::test {
namespace {

using Vlan = BridgeTest;

// An L2+L3 network without masquerade: nftables is not needed (the UML kernel has none).
json vlan_conf(const json& keys) {
    json conf = bridge_conf();
    conf["ipMasq"] = false;
    conf["isGateway"] = false;
    conf["ipam"]["ranges"] = json::array({json::array({{{"subnet", "10.88.10.0/24"}}})});
    conf["ipam"]["routes"] = json::array();
    conf.update(keys);
    return conf;
}

// `bridge -j vlan show dev DEV` as "vid[:PVID][:untagged]" strings.
std::vector<std::string> port_vlans(const std::string& dev) {
    std::vector<std::string> out;
    json all = json::parse(observe("bridge -j vlan show dev " + dev));
    for (const auto& port : all) {
        for (const auto& v : port["vlans"]) {
            std::string s = std::to_string(v["vlan"].get<int>());
            if (v.contains("vlanEnd")) {
                s += "-" + std::to_string(v["vlanEnd"].get<int>());
            }
            for (const auto& f : v.value("flags", json::array())) {
                s += f == "PVID" ? ":PVID" : ":untagged";
            }
            out.push_back(s);
        }
    }
    return out;
}

int vlan_filtering(const std::string& bridge) {
    json link = ip_json("-d link show " + bridge);
    return link[0]["linkinfo"]["info_data"].value("vlan_filtering", -1);
}

std::string host_end(const json& result) {
    return result["interfaces"][1]["name"];
}

TEST_F(Vlan, NativeVlanReplacesTheDefaultOnTheHostPort) {
    SDNET_REQUIRE_KERNEL(KernelFeature::BridgeVlanFiltering);
    auto c1 = make_netns("c1");
    json conf = vlan_conf({{"vlan", 10}});
    json r = add(c1, conf);
    EXPECT_EQ(vlan_filtering("sdnet0"), 1);
    EXPECT_EQ(port_vlans(host_end(r)), (std::vector<std::string>{"10:PVID:untagged"}));
    auto del = run("DEL", c1, conf);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    EXPECT_TRUE(bridge_ports("sdnet0").empty());
    EXPECT_TRUE(reservations("sdnet-bridge").empty());
}

TEST_F(Vlan, TrunkAddsTaggedVlansWithVlan1Native) {
    SDNET_REQUIRE_KERNEL(KernelFeature::BridgeVlanFiltering);
    auto c1 = make_netns("c1");
    json trunk = json::array({{{"id", 20}}, {{"minID", 30}, {"maxID", 32}}, {{"id", 31}}});
    json r = add(c1, vlan_conf({{"vlanTrunk", trunk}}));
    EXPECT_EQ(vlan_filtering("sdnet0"), 1);
    EXPECT_EQ(port_vlans(host_end(r)),
              (std::vector<std::string>{"1:PVID:untagged", "20", "30", "31", "32"}));
}

TEST_F(Vlan, PreserveDefaultVlanKeepsIt) {
    SDNET_REQUIRE_KERNEL(KernelFeature::BridgeVlanFiltering);
    auto c1 = make_netns("c1");
    json r = add(c1, vlan_conf({{"vlan", 10},
                                {"preserveDefaultVlan", true},
                                {"vlanTrunk", json::array({{{"id", 11}}})}}));
    EXPECT_EQ(port_vlans(host_end(r)),
              (std::vector<std::string>{"1:untagged", "10:PVID:untagged", "11"}));
}

TEST_F(Vlan, ContainersOnDifferentVlansAreSeparated) {
    SDNET_REQUIRE_KERNEL(KernelFeature::BridgeVlanFiltering);
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    auto c3 = make_netns("c3");
    add(c1, vlan_conf({{"vlan", 10}}));
    json r2 = add(c2, vlan_conf({{"vlan", 10}}));
    json r3 = add(c3, vlan_conf({{"vlan", 20}}));
    std::string a2 = r2["ips"][0]["address"];
    std::string a3 = r3["ips"][0]["address"];
    EXPECT_TRUE(ping(c1.name, a2.substr(0, a2.find('/'))));
    EXPECT_FALSE(ping(c1.name, a3.substr(0, a3.find('/'))));
}

TEST_F(Vlan, GatewayLivesOnAPortOfTheVlan) {
    SDNET_REQUIRE_KERNEL(KernelFeature::BridgeVlanFiltering);
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    json conf = vlan_conf({{"vlan", 10}, {"isGateway", true}});
    json r1 = add(c1, conf);
    json r2 = add(c2, conf);
    ASSERT_EQ(r1["interfaces"].size(), 4u) << r1;
    EXPECT_EQ(r1["interfaces"][3]["name"], "sdnet0.10");
    EXPECT_EQ(r1["ips"][0]["interface"], 2);
    EXPECT_EQ(r2["interfaces"][3]["name"], "sdnet0.10");
    json gw = ip_json("addr show dev sdnet0.10");
    ASSERT_EQ(gw.size(), 1u);
    bool has_gw = false;
    for (const auto& a : gw[0]["addr_info"]) {
        has_gw |= a["local"] == "10.88.10.1";
    }
    EXPECT_TRUE(has_gw) << gw;
    EXPECT_TRUE(ip_json("-4 addr show dev sdnet0")[0]["addr_info"].empty());
    EXPECT_TRUE(ping(c1.name, "10.88.10.1"));
    EXPECT_TRUE(ping(c2.name, "10.88.10.1"));
    // The gateway's own port is an untagged member of the VLAN only.
    std::string gw_port;
    for (const auto& port : bridge_ports("sdnet0")) {
        if (port != host_end(r1) && port != host_end(r2)) {
            gw_port = port;
        }
    }
    EXPECT_EQ(port_vlans(gw_port), (std::vector<std::string>{"10:PVID:untagged"}));
}

// Every kernel: a bad VLAN key is code 7 naming it, before anything is created.
TEST_F(Vlan, BadVlanKeysAreInvalidConfig) {
    auto c1 = make_netns("c1");
    for (const json& keys :
         {json{{"vlan", 4095}}, json{{"vlanTrunk", json::array({{{"minID", 5}}})}},
          json{{"vlanTrunk", json::array({{{"minID", 9}, {"maxID", 5}}})}},
          json{{"vlanTrunk", json::array({{{"id", 0}}})}}, json{{"vlanTrunk", 5}}}) {
        auto r = run("ADD", c1, vlan_conf(keys));
        EXPECT_EQ(r.code(), 7) << keys << " " << r.r.out;
        EXPECT_NE(r.out.value("msg", "").find("vlan"), std::string::npos) << r.r.out;
    }
    EXPECT_TRUE(ip_json("link show type bridge").empty());
}

// Every kernel: where the kernel lacks VLAN filtering, ADD names it (code 2) and leaves nothing,
// not even the bridge it created; where it has it, ADD works. DEL works on both.
TEST_F(Vlan, AddNamesAMissingKernelFeatureAndDelAlwaysWorks) {
    auto c1 = make_netns("c1");
    json conf = vlan_conf({{"vlan", 10}});
    bool lacks = missing_kernel_feature(KernelFeature::BridgeVlanFiltering).has_value();
    auto r = run("ADD", c1, conf);
    if (lacks) {
        EXPECT_EQ(r.code(), 2) << r.r.out;
        EXPECT_NE(r.out.value("msg", "").find("VLAN filtering"), std::string::npos) << r.r.out;
        EXPECT_TRUE(ip_json("link show type bridge").empty());
        EXPECT_TRUE(ip_json("-n " + c1.name + " link show type veth").empty());
        EXPECT_TRUE(reservations("sdnet-bridge").empty());
    } else {
        EXPECT_EQ(r.r.exit_code, 0) << r.r.out;
    }
    auto del = run("DEL", c1, conf);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    EXPECT_TRUE(reservations("sdnet-bridge").empty());
}

}  // namespace
}  // namespace sdnet::test
