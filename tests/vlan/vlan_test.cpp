// The vlan plugin as a runtime calls it, on a veth master in the test's private netns, and
// against /usr/lib/cni/vlan. Needs a kernel with 8021q (user-mode Linux here).
#include <filesystem>
#include <gtest/gtest.h>
#include <string>

#include "netlib/addr.hpp"
#include "tests/support/child_link_harness.hpp"
#include "tests/support/skip.hpp"

namespace sdnet::test {
namespace {

class VlanPluginTest : public ChildLinkTest {
protected:
    VlanPluginTest() : ChildLinkTest("vlan") {}

    void SetUp() override {
        ChildLinkTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        SDNET_REQUIRE_KERNEL(KernelFeature::Vlan);
    }

    json vconf(int id, const std::string& version = "1.0.0") const {
        json c = conf(version);
        c["vlanId"] = id;
        return c;
    }
};

TEST_F(VlanPluginTest, AddCreatesTheVlanAndTaggedTrafficReachesTheOtherEnd) {
    auto ns = make_netns("c1");
    json out = add_ok(ns, vconf(10));
    ASSERT_TRUE(out.is_object());
    EXPECT_EQ(out["ips"][0]["address"], "10.77.0.2/24");
    json link = link_in(ns);
    ASSERT_TRUE(link.is_object());
    EXPECT_EQ(link["linkinfo"]["info_kind"], "vlan");
    EXPECT_EQ(link["linkinfo"]["info_data"]["id"], 10);
    EXPECT_EQ(link["link_index"], master_.index);
    // The far end of the master's veth, with VLAN 10 on it, answers the container.
    auto sock = netlib::RouteSocket::open();
    auto peer = netlib::find_link(sock, "mst0peer");
    ASSERT_TRUE(peer);
    netlib::VlanSpec far{"far10", peer->index, 10, std::nullopt, nullptr, true};
    auto far_link = netlib::create_vlan(sock, far);
    netlib::add_address(sock, far_link.index, netlib::IpNet::parse("10.77.0.200/24"));
    EXPECT_TRUE(ping(ns.name, "10.77.0.200"));
}

TEST_F(VlanPluginTest, AVlanIdAlreadyOnTheMasterIsRefusedByName) {
    auto a = make_netns("a");
    auto b = make_netns("b");
    add_ok(a, vconf(20));
    auto r = call("ADD", b, vconf(20));
    EXPECT_EQ(r.code(), 7) << r.r.out;
    EXPECT_NE(r.r.out.find("\\\"vlanId\\\" 20 is already used"), std::string::npos) << r.r.out;
    EXPECT_TRUE(links_besides_lo(b).empty());
    EXPECT_EQ(reservations("clnet").size(), 2u);  // a's only
}

TEST_F(VlanPluginTest, BadKeysAreCode7NamingThem) {
    auto ns = make_netns("c1");
    for (const json& c : {conf(), vconf(0), vconf(4095)}) {
        auto r = call("ADD", ns, c);
        EXPECT_EQ(r.code(), 7) << r.r.out;
        EXPECT_NE(r.r.out.find("vlanId"), std::string::npos) << r.r.out;
    }
    json c = vconf(10);
    c["mtu"] = 9000;
    EXPECT_NE(call("ADD", ns, c).r.out.find("\\\"mtu\\\" 9000"), std::string::npos);
    EXPECT_TRUE(links_besides_lo(ns).empty());
    EXPECT_TRUE(reservations("clnet").empty());
}

TEST_F(VlanPluginTest, CheckDelAndDelWithoutTheNetns) {
    auto ns = make_netns("c1");
    json c = vconf(30);
    c["prevResult"] = add_ok(ns, vconf(30));
    EXPECT_EQ(call("CHECK", ns, c).r.exit_code, 0);
    json other = c;
    other["vlanId"] = 31;
    EXPECT_NE(call("CHECK", ns, other).r.out.find("has VLAN id 30"), std::string::npos);
    EXPECT_EQ(call("DEL", ns, c).r.exit_code, 0);
    EXPECT_TRUE(links_besides_lo(ns).empty());
    EXPECT_EQ(call("DEL", ns, c).r.exit_code, 0);
    auto gone = make_netns("c2");
    add_ok(gone, vconf(30));  // the id is free again
    observe("ip netns del " + gone.name);
    EXPECT_EQ(call("DEL", gone, vconf(30)).r.exit_code, 0);
    EXPECT_TRUE(reservations("clnet").empty());
}

TEST_F(VlanPluginTest, EveryVersionGcAndStatus) {
    // One VLAN id per container: the kernel allows one link per id on the master.
    expect_every_version_then_gc_and_status(
        [&](const std::string& v, int n) { return vconf(40 + n, v); }, "clnet");
}

TEST_F(VlanPluginTest, SameResultAndStateAsTheReference) {
    ASSERT_TRUE(std::filesystem::exists("/usr/lib/cni/vlan"));
    auto ref_ns = make_netns("ref");
    auto ours_ns = make_netns("ours");
    json ref_conf = vconf(50);
    ref_conf["name"] = "vref";
    ref_conf["ipam"]["ranges"] = {{{{"subnet", "10.78.0.0/24"}}}};
    json c = vconf(51);
    c["name"] = "vours";
    c["ipam"]["ranges"] = {{{{"subnet", "10.78.0.0/24"}}}};
    auto ref = call("ADD", ref_ns, ref_conf, "/usr/lib/cni/vlan");
    ASSERT_EQ(ref.r.exit_code, 0) << ref.r.out << ref.r.err;
    json ours = add_ok(ours_ns, c);
    json ref_out = ref.out;
    for (json* r : {&ref_out, &ours}) {
        (*r)["interfaces"][0].erase("sandbox");
        (*r)["interfaces"][0].erase("mac");
        r->erase("dns");
    }
    EXPECT_EQ(ours, ref_out);
    json lr = link_in(ref_ns);
    json lo = link_in(ours_ns);
    EXPECT_EQ(lo["mtu"], lr["mtu"]);
    EXPECT_EQ(lo["linkinfo"]["info_data"]["protocol"], lr["linkinfo"]["info_data"]["protocol"]);
    EXPECT_EQ(ip_json("-n " + ours_ns.name + " route show"),
              ip_json("-n " + ref_ns.name + " route show"));
}

}  // namespace
}  // namespace sdnet::test
