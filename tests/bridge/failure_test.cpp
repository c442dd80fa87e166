// A failed ADD leaves nothing behind: no veth, no reservation, no nft element.
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

#include "tests/support/bridge_harness.hpp"
#include "tests/support/skip.hpp"

namespace sdnet::test {
namespace {

// The rollback of masquerade elements is part of every case: nftables needed.
class Failure : public BridgeTest {
protected:
    void SetUp() override {
        BridgeTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        SDNET_REQUIRE_KERNEL(KernelFeature::Nftables);
    }

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

// An IPAM plugin that delegates to host-local and, on DEL, records the host's veths at that
// moment: a failed ADD must release the address only after the veth holding it is gone.
TEST_F(Failure, FailedAddReleasesTheAddressAfterTheVethIsGone) {
    const std::string dir = "/run/cni/recording-ipam";
    const std::string seen = dir + "/veths-at-release.json";
    std::filesystem::create_directories(dir);
    {
        std::ofstream script(dir + "/recording-ipam");
        script << "#!/bin/sh\n"
               << "[ \"$CNI_COMMAND\" = DEL ] && /usr/sbin/ip -j link show type veth > " << seen
               << "\nexec " << plugin_path("host-local") << "\n";
    }
    std::filesystem::permissions(dir + "/recording-ipam", std::filesystem::perms::owner_all);
    auto c1 = make_netns("c1");
    json conf = bridge_conf();
    conf["ipam"]["type"] = "recording-ipam";
    // Fails after the veth, the addresses and the reservation exist (see the test above).
    conf["ipam"]["routes"] = json::parse(R"([{"dst": "192.0.2.0/24", "gw": "198.51.100.1"}])");
    auto c = run_env({{"CNI_COMMAND", "ADD"},
                      {"CNI_CONTAINERID", "ctr-" + c1.name},
                      {"CNI_NETNS", c1.path},
                      {"CNI_IFNAME", "eth0"},
                      {"CNI_PATH", dir + ":" + plugin_path("")}},
                     conf);
    EXPECT_NE(c.r.exit_code, 0);
    EXPECT_NE(c.out.value("msg", "").find("RTM_NEWROUTE"), std::string::npos) << c.r.out;
    std::ifstream f(seen);
    ASSERT_TRUE(f.good()) << "the reservation was never released";
    EXPECT_EQ(json::parse(f), json::array()) << "released while the veth still existed";
    expect_only(0);
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

// Every kernel: a key that needs nftables (ipMasq, macspoofchk) works where the kernel has it;
// where it does not, ADD fails naming the key and the feature (code 2) and leaves nothing, and
// DEL still works. Observed with `ip -j` and the reservation files only: no `nft` needed.
class NftablesKeys : public BridgeTest {
protected:
    void add_then_del(const json& conf, const std::string& key) {
        auto c1 = make_netns("c1");
        bool lacks = missing_kernel_feature(KernelFeature::Nftables).has_value();
        auto r = run("ADD", c1, conf);
        if (lacks) {
            EXPECT_EQ(r.code(), 2) << r.r.out;
            std::string msg = r.out.value("msg", "");
            EXPECT_NE(msg.find("nftables"), std::string::npos) << r.r.out;
            EXPECT_NE(msg.find(key), std::string::npos) << r.r.out;
            EXPECT_TRUE(ip_json("link show type veth").empty());
            EXPECT_TRUE(ip_json("-n " + c1.name + " link show type veth").empty());
            EXPECT_TRUE(reservations("sdnet-bridge").empty());
        } else {
            EXPECT_EQ(r.r.exit_code, 0) << r.r.out;
        }
        auto del = run("DEL", c1, conf);
        EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
        EXPECT_TRUE(ip_json("link show type veth").empty());
        EXPECT_TRUE(reservations("sdnet-bridge").empty());
    }
};

TEST_F(NftablesKeys, IpMasq) {
    json conf = bridge_conf();
    conf["ipMasq"] = true;
    add_then_del(conf, "ipMasq");
}

TEST_F(NftablesKeys, Macspoofchk) {
    json conf = unmasqueraded_bridge_conf();
    conf["macspoofchk"] = true;
    add_then_del(conf, "macspoofchk");
}

// A configuration that asks for nothing of nftables needs none, on ADD or DEL.
TEST_F(NftablesKeys, NeitherNeedsNone) {
    json conf = unmasqueraded_bridge_conf();
    auto c1 = make_netns("c1");
    auto r = run("ADD", c1, conf);
    EXPECT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_EQ(ip_json("-n " + c1.name + " link show eth0").size(), 1u);
    auto del = run("DEL", c1, conf);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    EXPECT_TRUE(ip_json("link show type veth").empty());
    EXPECT_TRUE(reservations("sdnet-bridge").empty());
}

// GC releases stale addresses whether or not the kernel has nftables (then it holds no element).
TEST_F(NftablesKeys, GcWithoutMasqueradeReleasesStaleAddresses) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    json conf = unmasqueraded_bridge_conf("1.1.0");
    add(c1, conf);
    add(c2, conf);
    json gc = conf;
    gc["cni.dev/valid-attachments"] =
        json::array({{{"containerID", "ctr-" + c2.name}, {"ifname", "eth0"}}});
    auto r = run_env({{"CNI_COMMAND", "GC"}, {"CNI_PATH", plugin_path("")}}, gc);
    EXPECT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    EXPECT_EQ(reservations("sdnet-bridge"), (std::vector<std::string>{"10.88.10.3", "fd88:10::3"}));
}

}  // namespace
}  // namespace sdnet::test
