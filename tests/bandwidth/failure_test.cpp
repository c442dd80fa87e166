// A failed ADD leaves nothing of its own behind, and nothing of anyone else's is removed.
#include <gtest/gtest.h>

#include "plugins/cni/sha512.hpp"
#include "tests/bandwidth/bandwidth_harness.hpp"

namespace sdnet::test {
namespace {

using Rollback = BandwidthTest;

json limits_conf() {
    return bandwidth_conf(8'000'000, 800'000, 16'000'000, 1'600'000);
}

TEST_F(Rollback, AnIngressQdiscAlreadyThereUndoesEverything) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    std::string veth = host_veth(prev);
    observe("tc qdisc add dev " + veth + " ingress");  // someone else's

    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    EXPECT_EQ(r.code(), 999) << r.r.out;
    EXPECT_NE(r.out.value("msg", "").find("ingress"), std::string::npos) << r.r.out;
    EXPECT_TRUE(ifb_links("").empty());
    auto qdiscs = tc_qdiscs("", veth);
    EXPECT_TRUE(qdisc_of_kind(qdiscs, "tbf").is_null()) << qdiscs;
    EXPECT_FALSE(qdisc_of_kind(qdiscs, "ingress").is_null()) << "not ours to remove";
    EXPECT_TRUE(mirred_targets(tc_ingress_filters("", veth)).empty());
}

TEST_F(Rollback, ATakenIfbNameUndoesTheVethTbfAndKeepsTheOtherDevice) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    std::string ifb = "bwp" + cni::sha512_hex("sdnet-bridge/ctr-" + c1.name + "/eth0", 6);
    observe("ip link add " + ifb + " type ifb");

    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    EXPECT_EQ(r.code(), 999) << r.r.out;
    EXPECT_NE(r.out.value("msg", "").find(ifb), std::string::npos) << r.r.out;
    EXPECT_TRUE(qdisc_of_kind(tc_qdiscs("", host_veth(prev)), "tbf").is_null());
    EXPECT_FALSE(link_of("", ifb).is_null()) << "not ours to remove";
}

// What a runtime does after a failed ADD: DEL of the same attachment. It must not take another
// interface's ifb, even one named as the reference (and sdnet before per-attachment names) name
// every ifb of a container on a network.
TEST_F(Rollback, DelOfAnotherInterfaceLeavesAnIfbItDoesNotOwn) {
    auto c1 = make_netns("c1");
    json p0 = attach(c1);
    json p1 = add(c1, unmasqueraded_bridge_conf(), "eth1");
    std::string legacy = "bwp" + cni::sha512_hex("sdnet-bridge" + ("ctr-" + c1.name), 6);
    observe("ip link add " + legacy + " type ifb");
    observe("ip link set " + legacy + " alias sdnet-bridge/ctr-" + c1.name + "/eth0");

    auto d = bandwidth("DEL", c1, limits_conf(), p1, "eth1");
    EXPECT_EQ(d.r.exit_code, 0) << d.r.out;
    EXPECT_FALSE(link_of("", legacy).is_null()) << "eth0's, not eth1's";
    // Its owner's DEL takes it.
    d = bandwidth("DEL", c1, limits_conf(), p0, "eth0");
    EXPECT_EQ(d.r.exit_code, 0) << d.r.out;
    EXPECT_TRUE(link_of("", legacy).is_null());
}

TEST_F(Rollback, ARootQdiscAlreadyThereFailsCleanly) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    std::string veth = host_veth(prev);
    observe("tc qdisc add dev " + veth + " root handle 5: pfifo");
    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    EXPECT_EQ(r.code(), 999) << r.r.out;
    EXPECT_TRUE(ifb_links("").empty());
    EXPECT_FALSE(qdisc_of_kind(tc_qdiscs("", veth), "pfifo").is_null());
}

TEST_F(Rollback, AMissingContainerInterfaceIsAnError) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    auto r = bandwidth("ADD", c1, limits_conf(), prev, "eth9");
    EXPECT_EQ(r.code(), 999) << r.r.out;
    EXPECT_NE(r.out.value("msg", "").find("eth9"), std::string::npos) << r.r.out;
    EXPECT_TRUE(ifb_links("").empty());
    EXPECT_TRUE(qdisc_of_kind(tc_qdiscs("", host_veth(prev)), "tbf").is_null());
}

TEST_F(Rollback, ABadNetnsPathIsAnError) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    auto r = run_env(
        {{"CNI_COMMAND", "ADD"},
         {"CNI_CONTAINERID", "x"},
         {"CNI_NETNS", "/run/netns/nope"},
         {"CNI_IFNAME", "eth0"},
         {"CNI_PATH", plugin_path("")}},
        [&] {
            json conf = limits_conf();
            conf["prevResult"] = prev;
            return conf;
        }(),
        plugin_path("bandwidth"));
    EXPECT_NE(r.r.exit_code, 0);
    EXPECT_NE(r.out.value("msg", "").find("/run/netns/nope"), std::string::npos) << r.r.out;
    EXPECT_TRUE(ifb_links("").empty());
}

}  // namespace
}  // namespace sdnet::test
