// The ipvlan plugin as a runtime calls it, on a veth master in the test's private netns, and
// against /usr/lib/cni/ipvlan. Needs a kernel with ipvlan (user-mode Linux here).
#include <filesystem>
#include <gtest/gtest.h>
#include <string>

#include "tests/support/child_link_harness.hpp"
#include "tests/support/skip.hpp"

namespace sdnet::test {
namespace {

class IpvlanTest : public ChildLinkTest {
protected:
    IpvlanTest() : ChildLinkTest("ipvlan") {}

    void SetUp() override {
        ChildLinkTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        SDNET_REQUIRE_KERNEL(KernelFeature::Ipvlan);
    }
};

TEST_F(IpvlanTest, AddCreatesAnL2IpvlanOfTheMasterWithTheAllocatedAddresses) {
    auto ns = make_netns("c1");
    json out = add_ok(ns, conf());
    ASSERT_TRUE(out.is_object());
    EXPECT_EQ(out["interfaces"][0]["name"], "eth0");
    EXPECT_EQ(out["ips"][0]["address"], "10.77.0.2/24");
    json link = link_in(ns);
    ASSERT_TRUE(link.is_object());
    EXPECT_EQ(link["linkinfo"]["info_kind"], "ipvlan");
    EXPECT_EQ(link["linkinfo"]["info_data"]["mode"], "l2");
    EXPECT_EQ(link["mtu"], 1400);
    EXPECT_EQ(link["address"], master_.mac.to_string());  // an ipvlan shares its master's MAC
    EXPECT_EQ(addresses_in(ns), (std::vector<std::string>{"10.77.0.2/24", "fd77::2/64"}));
}

TEST_F(IpvlanTest, TwoContainersOnOneMasterReachEachOther) {
    auto a = make_netns("a");
    auto b = make_netns("b");
    add_ok(a, conf());
    json out = add_ok(b, conf());
    std::string addr = out["ips"][0]["address"];
    EXPECT_TRUE(ping(a.name, addr.substr(0, addr.find('/'))));
}

TEST_F(IpvlanTest, ModeAndFlagKeys) {
    auto ns = make_netns("c1");
    json c = conf();
    c["mode"] = "l3";
    c["prevResult"] = add_ok(ns, c);
    EXPECT_EQ(link_in(ns)["linkinfo"]["info_data"]["mode"], "l3");
    EXPECT_EQ(call("CHECK", ns, c).r.exit_code, 0);
    c["mode"] = "l3s";
    EXPECT_NE(call("CHECK", ns, c).r.out.find("has mode l3"), std::string::npos);
    auto other = make_netns("c2");
    json bad = conf();
    bad["mode"] = "bridge";
    EXPECT_EQ(call("ADD", other, bad).code(), 7);
    json vepa = conf();
    vepa["flag"] = "vepa";
    vepa["prevResult"] = add_ok(other, vepa);
    EXPECT_EQ(link_in(other)["linkinfo"]["info_data"]["vepa"], true) << link_in(other).dump();
    EXPECT_EQ(call("CHECK", other, vepa).r.exit_code, 0);
    vepa["flag"] = "private";
    auto changed = call("CHECK", other, vepa);
    EXPECT_NE(changed.r.out.find("has flag vepa, the configuration says private"),
              std::string::npos)
        << changed.r.out;
    auto third = make_netns("c3");
    bad = conf();
    bad["flag"] = "nonsense";
    auto flag = call("ADD", third, bad);
    EXPECT_EQ(flag.code(), 7);
    EXPECT_NE(flag.r.out.find("\\\"flag\\\""), std::string::npos) << flag.r.out;
    EXPECT_TRUE(links_besides_lo(third).empty());
}

TEST_F(IpvlanTest, ChainedItTakesPrevResultsAddressesAndInterfaceAsMaster) {
    auto ns = make_netns("c1");
    json c = conf();
    c.erase("ipam");
    c.erase("master");
    c["prevResult"] = {{"cniVersion", "1.0.0"},
                       {"interfaces", {{{"name", kMaster}}}},
                       {"ips", {{{"address", "10.77.0.9/24"}, {"interface", 0}}}}};
    json out = add_ok(ns, c);
    EXPECT_EQ(out["ips"][0]["address"], "10.77.0.9/24");
    EXPECT_EQ(addresses_in(ns), std::vector<std::string>{"10.77.0.9/24"});
    EXPECT_EQ(link_in(ns)["link_index"], master_.index);
}

TEST_F(IpvlanTest, FailedAddLeavesNothingAndDelIsIdempotent) {
    auto ns = make_netns("c1");
    json c = conf();
    c["ipam"]["type"] = "no-such-ipam";
    EXPECT_NE(call("ADD", ns, c).r.exit_code, 0);
    EXPECT_TRUE(links_besides_lo(ns).empty());

    c = conf();
    c["prevResult"] = add_ok(ns, conf());
    EXPECT_EQ(call("DEL", ns, c).r.exit_code, 0);
    EXPECT_TRUE(links_besides_lo(ns).empty());
    EXPECT_TRUE(reservations("clnet").empty());
    EXPECT_EQ(call("DEL", ns, c).r.exit_code, 0);
    auto gone = make_netns("c2");
    add_ok(gone, conf());
    observe("ip netns del " + gone.name);
    EXPECT_EQ(call("DEL", gone, conf()).r.exit_code, 0);
    EXPECT_TRUE(reservations("clnet").empty());
}

TEST_F(IpvlanTest, EveryVersionGcAndStatus) {
    expect_every_version_then_gc_and_status([&](const std::string& v, int) { return conf(v); },
                                            "clnet");
}

TEST_F(IpvlanTest, SameResultAndStateAsTheReference) {
    ASSERT_TRUE(std::filesystem::exists("/usr/lib/cni/ipvlan"));
    auto ref_ns = make_netns("ref");
    auto ours_ns = make_netns("ours");
    json c = conf("1.0.0", "ipref");
    c["mode"] = "l3";
    c["ipam"]["ranges"] = {{{{"subnet", "10.78.0.0/24"}}}};
    // One at a time: an address can be on only one ipvlan of a master.
    auto ref = call("ADD", ref_ns, c, "/usr/lib/cni/ipvlan");
    ASSERT_EQ(ref.r.exit_code, 0) << ref.r.out << ref.r.err;
    json ref_link = link_in(ref_ns);
    json ref_routes = ip_json("-n " + ref_ns.name + " route show");
    json del = c;
    del["prevResult"] = ref.out;
    ASSERT_EQ(call("DEL", ref_ns, del, "/usr/lib/cni/ipvlan").r.exit_code, 0);
    c["name"] = "ipours";  // its own host-local store: the same first address
    json ours = add_ok(ours_ns, c);
    json ref_out = ref.out;
    for (json* r : {&ref_out, &ours}) {
        (*r)["interfaces"][0].erase("sandbox");
        r->erase("dns");
    }
    EXPECT_EQ(ours, ref_out);
    json ours_link = link_in(ours_ns);
    EXPECT_EQ(ours_link["mtu"], ref_link["mtu"]);
    EXPECT_EQ(ours_link["linkinfo"]["info_data"], ref_link["linkinfo"]["info_data"]);
    EXPECT_EQ(ip_json("-n " + ours_ns.name + " route show"), ref_routes);
}

}  // namespace
}  // namespace sdnet::test
