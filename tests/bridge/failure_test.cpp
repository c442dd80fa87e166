// A failed ADD leaves nothing behind: no veth, no reservation, no nft element.
#include <gtest/gtest.h>

#include "tests/bridge/bridge_harness.hpp"

namespace sdnet::test {
namespace {

class Failure : public BridgeTest {
protected:
    // Asserts that the state is exactly what `survivors` containers left.
    void expect_only(std::size_t survivors) {
        EXPECT_EQ(bridge_ports("sdnet0").size(), survivors);
        EXPECT_EQ(nft_elements("sdnet_masq", "masq4").size(), survivors);
        EXPECT_EQ(reservations("sdnet-bridge").size(), 2 * survivors);
        auto veths = ip_json("link show type veth");
        EXPECT_EQ(veths.size(), survivors) << veths.dump();
    }
};

TEST_F(Failure, ExhaustedRangeLeavesNoVeth) {
    json conf = bridge_conf();
    conf["ipam"]["ranges"][0] = json::parse(R"([{"subnet": "10.88.10.0/24",
        "rangeStart": "10.88.10.2", "rangeEnd": "10.88.10.2"}])");
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    add(c1, conf);
    auto c = run("ADD", c2, conf);
    EXPECT_NE(c.r.exit_code, 0);
    EXPECT_NE(c.out.value("msg", "").find("no IP addresses available"), std::string::npos)
        << c.r.out;
    expect_only(1);
    EXPECT_TRUE(ip_json("-n " + c2.name + " link show type veth").empty());
}

TEST_F(Failure, ExistingContainerInterfaceReleasesTheReservation) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    json conf = bridge_conf();
    add(c1, conf);
    observe("ip -n " + c2.name + " link add eth0 type veth peer name other");
    auto c = run("ADD", c2, conf);
    EXPECT_NE(c.r.exit_code, 0);
    EXPECT_NE(c.out.value("msg", "").find("already exists"), std::string::npos) << c.r.out;
    expect_only(1);
}

TEST_F(Failure, KernelRefusingARouteUndoesEverything) {
    auto c1 = make_netns("c1");
    json conf = bridge_conf();
    // The gateway of this route is on no connected network: RTM_NEWROUTE fails (ENETUNREACH)
    // after the veth, the addresses and the reservation exist.
    conf["ipam"]["routes"] = json::parse(R"([{"dst": "192.0.2.0/24", "gw": "198.51.100.1"}])");
    auto c = run("ADD", c1, conf);
    EXPECT_NE(c.r.exit_code, 0);
    EXPECT_NE(c.out.value("msg", "").find("RTM_NEWROUTE"), std::string::npos) << c.r.out;
    expect_only(0);
    EXPECT_TRUE(ip_json("-n " + c1.name + " link show type veth").empty());
}

TEST_F(Failure, ExistingNonBridgeLinkIsAnErrorWithNothingLeft) {
    auto c1 = make_netns("c1");
    observe("ip link add sdnet0 type veth peer name sdnet0p");
    auto c = run("ADD", c1, bridge_conf());
    EXPECT_NE(c.r.exit_code, 0);
    EXPECT_NE(c.out.value("msg", "").find("sdnet0"), std::string::npos) << c.r.out;
    EXPECT_TRUE(reservations("sdnet-bridge").empty());
    EXPECT_TRUE(ip_json("-n " + c1.name + " link show type veth").empty());
}

TEST_F(Failure, MissingNetnsIsAnErrorWithNothingLeft) {
    json conf = bridge_conf();
    auto c = run_env({{"CNI_COMMAND", "ADD"},
                      {"CNI_CONTAINERID", "ghost"},
                      {"CNI_NETNS", "/run/netns/does-not-exist"},
                      {"CNI_IFNAME", "eth0"},
                      {"CNI_PATH", plugin_path("")}},
                     conf);
    EXPECT_NE(c.r.exit_code, 0);
    EXPECT_NE(c.out.value("msg", "").find("does-not-exist"), std::string::npos) << c.r.out;
    EXPECT_TRUE(reservations("sdnet-bridge").empty());
}

TEST_F(Failure, DuplicateAddForTheSameAttachmentFailsAndKeepsTheFirst) {
    auto c1 = make_netns("c1");
    json conf = bridge_conf();
    add(c1, conf);
    auto c = run("ADD", c1, conf);
    EXPECT_NE(c.r.exit_code, 0);
    expect_only(1);
    EXPECT_TRUE(ping(c1.name, "10.88.10.1"));
}

}  // namespace
}  // namespace sdnet::test
