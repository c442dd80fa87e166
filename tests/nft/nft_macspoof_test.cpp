// macspoof_* against the kernel: ruleset content via `nft -j`, and frames through a bridge.
//
//   container ns                host ns (this process)                     peer ns
//   c0 10.88.0.2/24 MAC A <-->  hc0 --[br0]-- hp0  <-->  p0 10.88.0.3/24

#include "netlib/nft_macspoof.hpp"

#include <cerrno>
#include <gtest/gtest.h>

#include "tests/nft/nft_test_util.hpp"

namespace {

using namespace netlib;
using nfttest::json_elems;
using nfttest::JsonElem;
using nfttest::must_run;
using nfttest::nft_ruleset;

constexpr const char* kMacA = "02:00:00:00:00:0a";
constexpr const char* kMacB = "02:00:00:00:00:0b";

MacspoofAttachment attachment(std::string cid, std::string host_if, const char* mac,
                              std::string net = "net1") {
    return {std::move(net), std::move(cid), "eth0", std::move(host_if), MacAddr::parse(mac)};
}

std::vector<JsonElem> elems(const char* set) {
    return json_elems(nft_ruleset(), "bridge", kMacspoofTable, set)
        .value_or(std::vector<JsonElem>{});
}

class NftMacspoofTest : public nfttest::NetnsTest {};

TEST_F(NftMacspoofTest, AddCreatesGuardAndAllowedPair) {
    macspoof_add(attachment("c1", "veth1", kMacA));
    EXPECT_EQ(elems("guarded"),
              (std::vector<JsonElem>{{"veth1", "sdnet net=net1 cid=c1 if=eth0", ""}}));
    EXPECT_EQ(elems("allowed"), (std::vector<JsonElem>{{"veth1 . 02:00:00:00:00:0a",
                                                        "sdnet net=net1 cid=c1 if=eth0", ""}}));
    auto text = nfttest::capture({"nft", "list", "table", "bridge", kMacspoofTable});
    // nft names the bridge family's priority -300 "dstnat".
    EXPECT_NE(text.find("type filter hook prerouting priority dstnat; policy accept;"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("iifname @guarded iifname . ether saddr != @allowed drop"),
              std::string::npos)
        << text;
    EXPECT_EQ(macspoof_list(),
              (std::vector<MacspoofEntry>{{"net1", "c1", "eth0", "veth1", MacAddr::parse(kMacA)}}));
}

TEST_F(NftMacspoofTest, DelRemovesOnlyItsOwnElements) {
    macspoof_add(attachment("c1", "veth1", kMacA));
    macspoof_add(attachment("c2", "veth2", kMacB));
    macspoof_del(attachment("c1", "veth1", kMacA));
    EXPECT_EQ(macspoof_list(),
              (std::vector<MacspoofEntry>{{"net1", "c2", "eth0", "veth2", MacAddr::parse(kMacB)}}));
    macspoof_del(attachment("c1", "veth1", kMacA));  // twice is fine
    // By owner only (host side unknown, e.g. the netns is gone).
    macspoof_del({"net1", "c2", "eth0", "", {}});
    EXPECT_TRUE(macspoof_list().empty());
    EXPECT_TRUE(elems("guarded").empty());
}

TEST_F(NftMacspoofTest, DelAndGcOnMissingTableSucceed) {
    EXPECT_NO_THROW(macspoof_del(attachment("c1", "veth1", kMacA)));
    EXPECT_NO_THROW(macspoof_gc("net1", {}));
    EXPECT_TRUE(macspoof_list().empty());
}

TEST_F(NftMacspoofTest, ReAddWithAnotherMacLeavesNoStalePair) {
    macspoof_add(attachment("c1", "veth1", kMacA));
    macspoof_add(attachment("c1", "veth1", kMacB));
    EXPECT_EQ(macspoof_list(),
              (std::vector<MacspoofEntry>{{"net1", "c1", "eth0", "veth1", MacAddr::parse(kMacB)}}));
    // A new owner of the same host interface (a leaked entry of a dead container) takes over.
    macspoof_add(attachment("c7", "veth1", kMacA));
    EXPECT_EQ(macspoof_list(),
              (std::vector<MacspoofEntry>{{"net1", "c7", "eth0", "veth1", MacAddr::parse(kMacA)}}));
}

TEST_F(NftMacspoofTest, GcRemovesOnlyInvalidOwners) {
    macspoof_add(attachment("c1", "veth1", kMacA));
    macspoof_add(attachment("c2", "veth2", kMacB));
    macspoof_add(attachment("c3", "veth3", kMacB, "net2"));
    macspoof_gc("net1", {{"c2", "eth0"}});
    auto left = macspoof_list();
    ASSERT_EQ(left.size(), 2U);
    EXPECT_EQ(left[0].container_id, "c2");
    EXPECT_EQ(left[1].container_id, "c3");
}

TEST_F(NftMacspoofTest, RejectsBadInput) {
    for (auto bad :
         {attachment("c1", "veth1", "00:00:00:00:00:00"),
          attachment("c1", "veth1", "01:00:5e:00:00:01"),
          attachment("c1", "a-much-too-long-ifname", kMacA), attachment("", "veth1", kMacA)}) {
        try {
            macspoof_add(bad);
            ADD_FAILURE() << "accepted " << bad.host_ifname << " " << bad.mac.to_string();
        } catch (const InvalidInput& e) {
            EXPECT_EQ(std::string(e.what()).rfind("macspoof_add ", 0), 0U) << e.what();
        }
    }
}

class NftMacspoofTrafficTest : public nfttest::NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        container_ = nfttest::make_netns();
        peer_ = nfttest::make_netns();
        must_run({"ip", "link", "add", "br0", "type", "bridge"});
        must_run({"ip", "link", "set", "br0", "up"});
        ASSERT_NO_FATAL_FAILURE(port("hc0", container_, "c0", "10.88.0.2/24", kMacA));
        ASSERT_NO_FATAL_FAILURE(port("hp0", peer_, "p0", "10.88.0.3/24", "02:00:00:00:00:0c"));
    }

    void port(const std::string& host_if, const Fd& ns, const std::string& peer_if,
              const std::string& addr, const char* mac) {
        must_run({"ip", "link", "add", host_if, "type", "veth", "peer", "name", peer_if, "netns",
                  nfttest::netns_path(ns)});
        must_run({"ip", "link", "set", host_if, "master", "br0", "up"});
        must_run({"ip", "link", "set", peer_if, "address", mac}, &ns);
        must_run({"ip", "addr", "add", addr, "dev", peer_if}, &ns);
        must_run({"ip", "link", "set", peer_if, "up"}, &ns);
    }

    // `tries` datagrams 300 ms apart; a drop is only proven by waiting, so keep that short
    // once the path is known to work.
    bool reaches_peer(int tries = 10) {
        return nfttest::udp_source_seen(container_, peer_, IpAddr::parse("10.88.0.3"), tries)
            .has_value();
    }

    Fd container_, peer_;
};

TEST_F(NftMacspoofTrafficTest, SpoofedFramesAreDropped) {
    auto a = attachment("c1", "hc0", kMacA);
    macspoof_add(a);
    EXPECT_TRUE(reaches_peer());
    must_run({"ip", "link", "set", "c0", "address", kMacB}, &container_);
    EXPECT_FALSE(reaches_peer(4));
    macspoof_del(a);
    EXPECT_TRUE(reaches_peer());
}

}  // namespace
