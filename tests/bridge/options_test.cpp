// Bridge options whose effect is in the kernel: the port wait (disableContainerInterface, STP),
// enabledad, forceAddress and promiscMode, observed with `ip -j`.
#include <chrono>
#include <gtest/gtest.h>
#include <thread>

#include "tests/support/bridge_harness.hpp"
#include "tests/support/eventually.hpp"

namespace sdnet::test {
namespace {

using Options = BridgeTest;

json port_data(const std::string& port) {
    return ip_json("-d link show " + port)[0]["linkinfo"]["info_slave_data"];
}

// The container's address `local` as `ip -j addr` shows it (null if absent).
json container_address(const TestNetns& ns, const std::string& local) {
    json links = ip_json("-n " + ns.name + " addr show dev eth0");  // must outlive the loop
    for (const auto& a : links[0]["addr_info"]) {
        if (a["local"] == local) {
            return a;
        }
    }
    return nullptr;
}

void make_bridge(const std::string& options) {
    observe("ip link add sdnet0 type bridge " + options);
    observe("ip link set sdnet0 up");
}

// With the container end left down the port has no carrier and never forwards: ADD must not
// wait for it (it used to fail with "port did not reach the forwarding state").
TEST_F(Options, DisabledContainerInterfaceAddsAndDeletes) {
    auto c1 = make_netns("c1");
    json conf = unmasqueraded_bridge_conf();
    conf.erase("ipam");
    conf["disableContainerInterface"] = true;
    auto c = run("ADD", c1, conf);
    ASSERT_EQ(c.r.exit_code, 0) << c.r.out << c.r.err;
    std::string port = c.out["interfaces"][1]["name"];
    auto flags = ip_json("-n " + c1.name + " link show eth0")[0]["flags"];
    EXPECT_EQ(std::find(flags.begin(), flags.end(), "UP"), flags.end()) << flags.dump();
    EXPECT_EQ(port_data(port)["state"], "disabled");
    EXPECT_EQ(run("DEL", c1, conf).r.exit_code, 0);
    EXPECT_TRUE(bridge_ports("sdnet0").empty());
}

// Under STP a new port listens, then learns, for the forward delay each (15 s by default):
// ADD succeeds without waiting for forwarding; DEL cleans up.
TEST_F(Options, ExistingStpBridgeAddsWithoutWaitingForForwarding) {
    make_bridge("stp_state 1 forward_delay 1500");
    auto c1 = make_netns("c1");
    json conf = unmasqueraded_bridge_conf();
    auto c = run("ADD", c1, conf);
    ASSERT_EQ(c.r.exit_code, 0) << c.r.out << c.r.err;
    std::string port = c.out["interfaces"][1]["name"];
    std::string state = port_data(port)["state"];
    EXPECT_TRUE(state == "listening" || state == "learning") << state;
    EXPECT_EQ(run("DEL", c1, conf).r.exit_code, 0);
    EXPECT_TRUE(bridge_ports("sdnet0").empty());
    EXPECT_TRUE(reservations("sdnet-bridge").empty());
    EXPECT_TRUE(ip_json("link show type veth").empty());
}

// The port forwards once STP lets it (2 × the shortest forward delay, 2 s), and traffic flows.
TEST_F(Options, StpPortForwardsLater) {
    make_bridge("stp_state 1 forward_delay 200");
    auto c1 = make_netns("c1");
    json r = add(c1, unmasqueraded_bridge_conf());
    std::string port = r["interfaces"][1]["name"];
    EXPECT_TRUE(eventually([&] { return port_data(port)["state"] == "forwarding"; }));
    EXPECT_TRUE(ping(c1.name, "10.88.10.1"));
}

// A duplicate of the container's IPv6 address on the bridge: with enabledad the kernel's DAD
// finds it (the address is not nodad and ends up dadfailed); without, the address is nodad.
void add_intruder(const TestNetns& ns, const std::string& addr) {
    observe("ip link add intr0 type veth peer name eth0 netns " + ns.name);
    observe("ip link set intr0 master sdnet0 up");
    observe("ip -n " + ns.name + " addr add " + addr + " dev eth0 nodad");
    observe("ip -n " + ns.name + " link set eth0 up");
}

TEST_F(Options, EnabledadDetectsADuplicateAddress) {
    make_bridge("");
    auto intruder = make_netns("intruder");
    add_intruder(intruder, "fd88:10::2/64");
    auto c1 = make_netns("c1");
    json conf = unmasqueraded_bridge_conf();
    conf["enabledad"] = true;
    json r = add(c1, conf);
    ASSERT_EQ(r["ips"][1]["address"], "fd88:10::2/64");
    json a = container_address(c1, "fd88:10::2");
    EXPECT_FALSE(a.value("nodad", false)) << a.dump();
    EXPECT_TRUE(eventually([&] {
        return container_address(c1, "fd88:10::2").value("dadfailed", false);
    })) << container_address(c1, "fd88:10::2").dump();
}

TEST_F(Options, WithoutEnabledadTheAddressIsNodad) {
    make_bridge("");
    auto intruder = make_netns("intruder");
    add_intruder(intruder, "fd88:10::2/64");
    auto c1 = make_netns("c1");
    add(c1, unmasqueraded_bridge_conf());
    json a = container_address(c1, "fd88:10::2");
    EXPECT_TRUE(a.value("nodad", false)) << a.dump();
    EXPECT_FALSE(a.value("tentative", false)) << a.dump();
    EXPECT_FALSE(a.value("dadfailed", false)) << a.dump();
}

std::vector<std::string> bridge_addresses() {
    std::vector<std::string> out;
    json links = ip_json("addr show dev sdnet0");  // must outlive the loop
    for (const auto& a : links[0]["addr_info"]) {
        if (a["scope"] == "global") {
            out.push_back(a["local"].get<std::string>() + "/" +
                          std::to_string(a["prefixlen"].get<int>()));
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The bridge has another IPv4 address than the gateway, and an IPv6 one of another subnet.
void make_bridge_with_other_addresses() {
    make_bridge("");
    observe("ip addr add 10.99.0.1/24 dev sdnet0");
    observe("ip addr add fd99::1/64 dev sdnet0 nodad");
}

TEST_F(Options, ForceAddressReplacesADifferentGatewayAddress) {
    make_bridge_with_other_addresses();
    auto c1 = make_netns("c1");
    json conf = unmasqueraded_bridge_conf();
    conf["forceAddress"] = true;
    add(c1, conf);
    // The IPv4 address is replaced; the IPv6 one of another subnet does not clash and stays.
    EXPECT_EQ(bridge_addresses(),
              (std::vector<std::string>{"10.88.10.1/24", "fd88:10::1/64", "fd99::1/64"}));
    EXPECT_TRUE(ping(c1.name, "10.88.10.1"));
}

TEST_F(Options, WithoutForceAddressADifferentGatewayAddressIsRefused) {
    make_bridge_with_other_addresses();
    auto c1 = make_netns("c1");
    auto c = run("ADD", c1, unmasqueraded_bridge_conf());
    EXPECT_NE(c.r.exit_code, 0);
    EXPECT_EQ(c.code(), 999) << c.r.out;
    EXPECT_NE(c.out.value("msg", "").find("already has an IP address 10.99.0.1/24"),
              std::string::npos)
        << c.r.out;
    EXPECT_EQ(bridge_addresses(), (std::vector<std::string>{"10.99.0.1/24", "fd99::1/64"}));
    EXPECT_TRUE(reservations("sdnet-bridge").empty());
    EXPECT_TRUE(ip_json("link show type veth").empty());
}

int promiscuity() {
    return ip_json("-d link show sdnet0")[0]["promiscuity"];
}

TEST_F(Options, PromiscModeOnACreatedBridge) {
    auto c1 = make_netns("c1");
    json conf = unmasqueraded_bridge_conf();
    conf["hairpinMode"] = false;
    conf["promiscMode"] = true;
    conf["prevResult"] = add(c1, conf);
    EXPECT_EQ(promiscuity(), 1);
    auto check = run("CHECK", c1, conf);
    EXPECT_EQ(check.r.exit_code, 0) << check.r.out;
}

TEST_F(Options, PromiscModeOnAnExistingBridge) {
    make_bridge("");
    auto c1 = make_netns("c1");
    json conf = unmasqueraded_bridge_conf();
    conf["hairpinMode"] = false;
    conf["promiscMode"] = true;
    add(c1, conf);
    EXPECT_EQ(promiscuity(), 1);
}

TEST_F(Options, NoPromiscModeByDefault) {
    add(make_netns("c1"), unmasqueraded_bridge_conf());
    EXPECT_EQ(promiscuity(), 0);
}

}  // namespace
}  // namespace sdnet::test
