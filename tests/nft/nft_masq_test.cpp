// masq_* against the kernel, observed with masq_list and `nft -j list ruleset`.

#include "netlib/nft_masq.hpp"

#include <cerrno>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include "tests/nft/nft_test_util.hpp"

namespace {

using namespace netlib;
using nfttest::json_chains;
using nfttest::json_elems;
using nfttest::JsonElem;
using nfttest::nft_ruleset;

MasqAttachment attachment(std::string net, std::string cid, std::vector<const char*> addrs,
                          std::string ifname = "eth0") {
    MasqAttachment a{std::move(net), std::move(cid), std::move(ifname), {}};
    for (const char* addr : addrs) {
        a.addresses.push_back(IpNet::parse(addr));
    }
    return a;
}

MasqEntry entry(std::string net, std::string cid, const char* addr, const char* subnet,
                std::string ifname = "eth0") {
    return {std::move(net), std::move(cid), std::move(ifname), IpAddr::parse(addr),
            IpNet::parse(subnet)};
}

std::vector<JsonElem> elems4() {
    return json_elems(nft_ruleset(), "inet", kMasqTable, "masq4").value_or(std::vector<JsonElem>{});
}

class NftMasqTest : public nfttest::NetnsTest {
protected:
    MasqAttachment a1_ = attachment("net1", "c1", {"10.77.0.2/24", "fd00:77::2/64"});
    MasqAttachment a2_ = attachment("net1", "c2", {"10.77.0.3/24", "fd00:77::3/64"});
    MasqAttachment b1_ = attachment("net2", "c3", {"10.88.0.2/16"});
};

TEST_F(NftMasqTest, AddCreatesTableChainsAndTaggedElements) {
    masq_add(a1_);
    auto rs = nft_ruleset();
    EXPECT_EQ(json_chains(rs, "inet", kMasqTable),
              (std::vector<std::string>{"masq4_10_77_0_0_24", "masq6_fd00_77_0_0_0_0_0_0_64",
                                        "postrouting"}));
    EXPECT_EQ(json_elems(rs, "inet", kMasqTable, "masq4"),
              (std::vector<JsonElem>{{"10.77.0.2", "sdnet net=net1 cid=c1 if=eth0", ""}}));
    EXPECT_EQ(json_elems(rs, "inet", kMasqTable, "masq6"),
              (std::vector<JsonElem>{{"fd00:77::2", "sdnet net=net1 cid=c1 if=eth0", ""}}));
    EXPECT_EQ(json_elems(rs, "inet", kMasqTable, "subnets4"),
              (std::vector<JsonElem>{{"10.77.0.0/24", "", "masq4_10_77_0_0_24"}}));
    EXPECT_EQ(json_elems(rs, "inet", kMasqTable, "subnets6"),
              (std::vector<JsonElem>{{"fd00:77::/64", "", "masq6_fd00_77_0_0_0_0_0_0_64"}}));
    auto text = nfttest::capture({"nft", "list", "table", "inet", kMasqTable});
    for (const char* line :
         {"type nat hook postrouting priority srcnat; policy accept;",
          "ip saddr @masq4 ip saddr vmap @subnets4", "ip6 saddr @masq6 ip6 saddr vmap @subnets6",
          "ip daddr != 10.77.0.0/24 ip daddr != 224.0.0.0/4 masquerade",
          "ip6 daddr != fd00:77::/64 ip6 daddr != ff00::/8 masquerade"}) {
        EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
    }
    EXPECT_EQ(masq_list(),
              (std::vector<MasqEntry>{entry("net1", "c1", "10.77.0.2", "10.77.0.0/24"),
                                      entry("net1", "c1", "fd00:77::2", "fd00:77::/64")}));
}

TEST_F(NftMasqTest, TwoContainersTwoNetworks) {
    masq_add(a1_);
    masq_add(a2_);
    masq_add(b1_);
    EXPECT_EQ(masq_list("net2"),
              (std::vector<MasqEntry>{entry("net2", "c3", "10.88.0.2", "10.88.0.0/16")}));
    EXPECT_EQ(masq_list("net1").size(), 4U);
    EXPECT_EQ(masq_list().size(), 5U);
    // Containers of one subnet share its chain; the rule set does not grow per container.
    EXPECT_EQ(json_chains(nft_ruleset(), "inet", kMasqTable).size(), 4U);
    EXPECT_EQ(elems4().size(), 3U);
}

TEST_F(NftMasqTest, AddIsIdempotent) {
    masq_add(a1_);
    masq_add(a1_);
    EXPECT_EQ(masq_list().size(), 2U);
    auto text = nfttest::capture({"nft", "list", "chain", "inet", kMasqTable, "postrouting"});
    EXPECT_EQ(text.find("vmap @masq4"), text.rfind("vmap @masq4")) << "rule added twice:\n" << text;
}

TEST_F(NftMasqTest, DelRemovesExactlyOneAttachment) {
    masq_add(a1_);
    masq_add(a2_);
    masq_add(b1_);
    masq_del(a1_);
    auto left = masq_list();
    EXPECT_EQ(left.size(), 3U);
    for (const auto& e : left) {
        EXPECT_NE(e.container_id, "c1");
    }
    masq_del(a1_);  // again: nothing there, still fine
    EXPECT_EQ(masq_list().size(), 3U);
}

TEST_F(NftMasqTest, DelWithoutAddressesFindsTheOwnersElements) {
    // The reference plugin leaks rules when the netns is gone (plugins#810); by owner we don't.
    masq_add(a1_);
    masq_add(a2_);
    masq_del(attachment("net1", "c1", {}));
    EXPECT_EQ(masq_list(),
              (std::vector<MasqEntry>{entry("net1", "c2", "10.77.0.3", "10.77.0.0/24"),
                                      entry("net1", "c2", "fd00:77::3", "fd00:77::/64")}));
}

TEST_F(NftMasqTest, DelLeavesOtherOwnersOfTheSameKey) {
    masq_add(a1_);
    // Another owner now holds 10.77.0.2 (e.g. after the address was reused): takes it over.
    auto taker = attachment("net1", "c9", {"10.77.0.2/24"});
    masq_add(taker);
    masq_del(a1_);  // must not remove c9's element
    EXPECT_EQ(masq_list(),
              (std::vector<MasqEntry>{entry("net1", "c9", "10.77.0.2", "10.77.0.0/24")}));
}

TEST_F(NftMasqTest, DelOnMissingTableSucceeds) {
    EXPECT_NO_THROW(masq_del(a1_));
    EXPECT_NO_THROW(masq_del(attachment("net1", "c1", {})));
    EXPECT_TRUE(masq_list().empty());
    EXPECT_NO_THROW(masq_gc("net1", {}));
}

TEST_F(NftMasqTest, SubnetChainsAreSharedAndOutliveTheirContainers) {
    masq_add(a1_);
    masq_add(a2_);
    masq_add(attachment("net3", "c5", {"10.77.0.9/24"}));  // same subnet, other network
    masq_del(a1_);
    masq_del(a2_);
    masq_del(attachment("net3", "c5", {"10.77.0.9/24"}));
    EXPECT_TRUE(masq_list().empty());
    // Inert without addresses in masq4/masq6; deleting them could race with an ADD.
    EXPECT_EQ(json_chains(nft_ruleset(), "inet", kMasqTable).size(), 3U);
    masq_add(a1_);
    EXPECT_EQ(masq_list().size(), 2U);
}

TEST_F(NftMasqTest, OverlappingSubnetsOfDifferentNetworksAreRefused) {
    masq_add(attachment("wide", "c1", {"10.0.0.2/16"}));
    try {
        masq_add(attachment("narrow", "c2", {"10.0.1.2/24"}));
        FAIL() << "overlapping subnet accepted";
    } catch (const NftBatchError& e) {
        EXPECT_EQ(e.code(), EEXIST);
        EXPECT_NE(std::string(e.what()).find("inet sdnet_masq subnets4"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(masq_list().size(), 1U);  // the failed ADD left nothing behind
}

TEST_F(NftMasqTest, GcRemovesOnlyInvalidOwnersOfThatNetwork) {
    masq_add(a1_);
    masq_add(a2_);
    masq_add(b1_);
    masq_add(attachment("net1", "c2", {"10.77.0.4/24"}, "eth1"));
    masq_gc("net1", {{"c2", "eth0"}});
    EXPECT_EQ(masq_list(),
              (std::vector<MasqEntry>{entry("net1", "c2", "10.77.0.3", "10.77.0.0/24"),
                                      entry("net1", "c2", "fd00:77::3", "fd00:77::/64"),
                                      entry("net2", "c3", "10.88.0.2", "10.88.0.0/16")}));
}

// Forks `procs` children running body(i) at the same moment; expects all to exit 0.
template <class Body>
void run_concurrently(int procs, Body body) {
    int go[2];
    ASSERT_EQ(pipe(go), 0);
    std::vector<pid_t> kids;
    for (int i = 0; i < procs; ++i) {
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            close(go[1]);
            char c;
            (void)!read(go[0], &c, 1);  // returns when the parent closes the pipe
            try {
                body(i);
                _exit(0);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "child %d: %s\n", i, e.what());
                _exit(1);
            }
        }
        kids.push_back(pid);
    }
    close(go[0]);
    close(go[1]);  // release them all at once
    for (pid_t pid : kids) {
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    }
}

TEST_F(NftMasqTest, ConcurrentFirstAddsFromManyProcessesAllSucceed) {
    constexpr int kProcs = 8;
    run_concurrently(kProcs, [](int i) {
        auto net = "net" + std::to_string(i % 2);
        auto addr4 = "10.7" + std::to_string(i % 2) + ".0." + std::to_string(i + 2) + "/24";
        auto addr6 = "fd00:7" + std::to_string(i % 2) + "::" + std::to_string(i + 2) + "/64";
        masq_add(attachment(net, "c" + std::to_string(i), {addr4.c_str(), addr6.c_str()}));
    });
    EXPECT_EQ(masq_list().size(), 2U * kProcs);
    auto text = nfttest::capture({"nft", "list", "chain", "inet", kMasqTable, "postrouting"});
    EXPECT_EQ(text.find("vmap @masq4"), text.rfind("vmap @masq4")) << text;
    EXPECT_EQ(json_chains(nft_ruleset(), "inet", kMasqTable).size(), 5U);
}

TEST_F(NftMasqTest, ConcurrentChurnOnASharedSubnet) {
    // ADDs and DELs interleave, so the subnet chain is deleted and re-created under the feet
    // of other processes: every ADD must still land.
    constexpr int kProcs = 6;
    run_concurrently(kProcs, [](int i) {
        auto addr = "10.99.0." + std::to_string(i + 2) + "/24";
        auto a = attachment("net1", "c" + std::to_string(i), {addr.c_str()});
        for (int round = 0; round < 15; ++round) {
            masq_add(a);
            masq_del(a);
        }
        masq_add(a);
    });
    EXPECT_EQ(masq_list().size(), std::size_t{kProcs});
    EXPECT_EQ(json_chains(nft_ruleset(), "inet", kMasqTable),
              (std::vector<std::string>{"masq4_10_99_0_0_24", "postrouting"}));
}

TEST_F(NftMasqTest, InvalidInputNamesTheOperation) {
    try {
        masq_add(attachment("", "c1", {"10.0.0.2/24"}));
        FAIL();
    } catch (const InvalidInput& e) {
        EXPECT_EQ(std::string(e.what()).rfind("masq_add ", 0), 0U) << e.what();
    }
    try {
        masq_add(attachment("n", "c1", {"224.0.0.5/4"}));
        FAIL();
    } catch (const InvalidInput& e) {
        EXPECT_NE(std::string(e.what()).find("224.0.0.5/4"), std::string::npos) << e.what();
    }
}

TEST_F(NftMasqTest, ForeignSetWithOurNameIsReportedNotClobbered) {
    // Someone else's set of another type where ours should be: the error names it.
    nfttest::must_run({"nft", "add", "table", "inet", kMasqTable});
    nfttest::must_run({"nft", "add", "set", "inet", kMasqTable, "masq4", "{ type ether_addr; }"});
    try {
        masq_add(a1_);
        FAIL();
    } catch (const NftBatchError& e) {
        EXPECT_NE(std::string(e.what()).find("inet sdnet_masq masq4"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(json_chains(nft_ruleset(), "inet", kMasqTable).size(), 0U);  // nothing applied
}

}  // namespace
