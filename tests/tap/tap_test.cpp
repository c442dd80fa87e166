// The tap plugin as a runtime calls it, in the test's private namespaces. There is no reference
// tap plugin in /usr/lib/cni to compare with (containernetworking-plugins 1.1.1 predates it).
#include <algorithm>
#include <gtest/gtest.h>
#include <string>

#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"
#include "tests/support/child_link_harness.hpp"

namespace sdnet::test {
namespace {

class TapTest : public ChildLinkTest {
protected:
    TapTest() : ChildLinkTest("tap") {}

    json tconf(const std::string& version = "1.0.0") const {
        json c = conf(version, "tapnet");
        c.erase("master");
        return c;
    }
};

TEST_F(TapTest, AddCreatesAPersistentTapWithOwnerGroupMtuAndMac) {
    auto ns = make_netns("c1");
    json c = tconf();
    c["owner"] = 1234;
    c["group"] = 5678;
    c["multiQueue"] = true;
    c["mtu"] = 1280;
    c["mac"] = "02:00:00:00:00:0a";
    c["selinuxcontext"] = "system_u:system_r:container_t:s0";  // accepted
    json out = add_ok(ns, c);
    ASSERT_TRUE(out.is_object());
    EXPECT_EQ(out["interfaces"][0]["name"], "eth0");
    EXPECT_EQ(out["interfaces"][0]["mac"], "02:00:00:00:00:0a");
    EXPECT_EQ(out["ips"][0]["address"], "10.77.0.2/24");
    json link = link_in(ns);
    ASSERT_TRUE(link.is_object());
    EXPECT_EQ(link["linkinfo"]["info_kind"], "tun");
    const json& tun = link["linkinfo"]["info_data"];
    EXPECT_EQ(tun["type"], "tap");
    EXPECT_EQ(tun["persist"], true);
    EXPECT_EQ(tun["multi_queue"], true);
    EXPECT_EQ(tun["user"], 1234);
    EXPECT_EQ(tun["group"], 5678);
    EXPECT_EQ(link["mtu"], 1280);
    EXPECT_EQ(link["address"], "02:00:00:00:00:0a");
    EXPECT_NE(std::find(link["flags"].begin(), link["flags"].end(), "UP"), link["flags"].end());
    EXPECT_EQ(addresses_in(ns), (std::vector<std::string>{"10.77.0.2/24", "fd77::2/64"}));
}

TEST_F(TapTest, CheckComparesOwnerAndGroup) {
    auto ns = make_netns("c1");
    json c = tconf();
    c["owner"] = 1234;
    c["prevResult"] = add_ok(ns, c);
    EXPECT_EQ(call("CHECK", ns, c).r.exit_code, 0);
    c["owner"] = 4321;
    auto owner = call("CHECK", ns, c);
    EXPECT_NE(owner.r.out.find("has owner 1234, the configuration says 4321"), std::string::npos)
        << owner.r.out;
    c["owner"] = 1234;
    c["group"] = 99;
    auto group = call("CHECK", ns, c);
    EXPECT_NE(group.r.out.find("has group unset, the configuration says 99"), std::string::npos)
        << group.r.out;
}

TEST_F(TapTest, BridgeEnslavesItToABridgeOfTheContainer) {
    auto ns = make_netns("c1");
    auto ctr = netlib::RouteSocket::open_in(ns.ns);
    netlib::BridgeSpec br{"br0", std::nullopt, false, std::nullopt};
    (void)netlib::ensure_bridge(ctr, br);
    json c = tconf();
    c.erase("ipam");
    c["bridge"] = "br0";
    c["prevResult"] = add_ok(ns, c);
    EXPECT_EQ(link_in(ns)["master"], "br0");
    EXPECT_EQ(call("CHECK", ns, c).r.exit_code, 0);

    auto other = make_netns("c2");
    json missing = tconf();
    missing["bridge"] = "nobr0";
    auto r = call("ADD", other, missing);
    EXPECT_EQ(r.code(), 7) << r.r.out;
    EXPECT_NE(r.r.out.find("\\\"bridge\\\" \\\"nobr0\\\""), std::string::npos) << r.r.out;
    EXPECT_TRUE(links_besides_lo(other).empty());
    EXPECT_TRUE(reservations("tapnet").empty());
}

TEST_F(TapTest, BadKeysAreCode7NamingThem) {
    auto ns = make_netns("c1");
    auto expect_named = [&](const char* key, json value) {
        json c = tconf();
        c[key] = std::move(value);
        auto r = call("ADD", ns, c);
        EXPECT_EQ(r.code(), 7) << key << ": " << r.r.out;
        EXPECT_NE(r.r.out.find(key), std::string::npos) << r.r.out;
    };
    expect_named("owner", -1);
    expect_named("group", "wheel");
    expect_named("multiQueue", "yes");
    expect_named("bridge", "a/b");
    expect_named("mac", "02:zz");
    expect_named("mtu", 10);
    EXPECT_TRUE(links_besides_lo(ns).empty());
    EXPECT_TRUE(reservations("tapnet").empty());
}

TEST_F(TapTest, FailedAddLeavesNothingDelIsIdempotentAndWorksWithoutTheNetns) {
    auto ns = make_netns("c1");
    json c = tconf();
    c["ipam"]["type"] = "no-such-ipam";
    EXPECT_NE(call("ADD", ns, c).r.exit_code, 0);
    EXPECT_TRUE(links_besides_lo(ns).empty());

    c = tconf();
    c["prevResult"] = add_ok(ns, tconf());
    EXPECT_EQ(call("CHECK", ns, c).r.exit_code, 0);
    EXPECT_EQ(call("DEL", ns, c).r.exit_code, 0);
    EXPECT_TRUE(links_besides_lo(ns).empty());
    EXPECT_TRUE(reservations("tapnet").empty());
    EXPECT_EQ(call("DEL", ns, c).r.exit_code, 0);
    EXPECT_NE(call("CHECK", ns, c).r.exit_code, 0);  // the tap and its addresses are gone

    auto gone = make_netns("c2");
    add_ok(gone, tconf());
    observe("ip netns del " + gone.name);
    EXPECT_EQ(call("DEL", gone, tconf()).r.exit_code, 0);
    EXPECT_TRUE(reservations("tapnet").empty());
}

TEST_F(TapTest, EveryVersionGcAndStatus) {
    expect_every_version_then_gc_and_status([&](const std::string& v, int) { return tconf(v); },
                                            "tapnet");
}

}  // namespace
}  // namespace sdnet::test
