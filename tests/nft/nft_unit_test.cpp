// Pure logic of the nftables module: no syscalls.

#include <cerrno>
#include <gtest/gtest.h>

#include "netlib/nft.hpp"
#include "netlib/nft_masq.hpp"
#include "netlib/nft_owned.hpp"

namespace {

using namespace netlib;

TEST(NftUnitTest, KeysArePaddedConcatenations) {
    auto key = nft_concat({nft_key_ifname("veth0"), nft_key(MacAddr::parse("02:00:00:00:00:01"))});
    ASSERT_EQ(key.size(), 24U);  // 16 + 6 padded to 8
    EXPECT_EQ(key[0], 'v');
    EXPECT_EQ(key[16], 0x02);
    EXPECT_EQ(key[21], 0x01);
    EXPECT_EQ(key[22], 0);
    NftSet set{{NftFamily::Bridge, "t"}, "s", {NftType::Ifname, NftType::EtherAddr}, {}, false};
    EXPECT_EQ(set.key_len(), 24U);
    EXPECT_EQ(nft_format_key(set, key), "veth0 . 02:00:00:00:00:01");
    EXPECT_EQ(nft_key_port(8080), (NftBytes{0x1f, 0x90}));
    EXPECT_THROW(nft_key_ifname("0123456789abcdef"), InvalidInput);
    EXPECT_THROW(nft_key_ifname(""), InvalidInput);
}

TEST(NftUnitTest, PrefixMatchMasksOnlyWhenNeeded) {
    NftRule rule({NftFamily::Inet, "t"}, "c");
    rule.match_prefix(NftAddrField::Dst, IpNet::parse("10.77.0.9/20"), NftCmpOp::Neq);
    // meta nfproto, cmp, payload daddr, bitwise, cmp
    ASSERT_EQ(rule.exprs().size(), 5U);
    const auto& mask = std::get<NftBitwiseExpr>(rule.exprs()[3]).mask;
    EXPECT_EQ(mask, (NftBytes{0xff, 0xff, 0xf0, 0x00}));
    const auto& cmp = std::get<NftCmpExpr>(rule.exprs()[4]);
    EXPECT_EQ(cmp.data, (NftBytes{10, 77, 0, 0}));
    EXPECT_EQ(cmp.op, NftCmpOp::Neq);

    NftRule host({NftFamily::Inet, "t"}, "c");
    host.match_prefix(NftAddrField::Src, IpNet::parse("fd00::1/128"), NftCmpOp::Eq);
    EXPECT_EQ(host.exprs().size(), 4U);  // no bitwise for a full-length prefix
    EXPECT_EQ(std::get<NftPayloadExpr>(host.exprs()[2]).offset, 8U);
}

TEST(NftUnitTest, NfprotoGuardIsAddedOncePerFamily) {
    NftRule rule({NftFamily::Inet, "t"}, "c");
    rule.load_addr(Family::V4, NftAddrField::Src, NftReg::R1)
        .load_addr(Family::V4, NftAddrField::Dst, NftReg::R2);
    EXPECT_EQ(rule.exprs().size(), 4U);
}

TEST(NftUnitTest, OwnerCommentRoundTrips) {
    NftOwner owner{"net-1", "0123abcd", "eth0"};
    EXPECT_EQ(owner.comment(), "sdnet net=net-1 cid=0123abcd if=eth0");
    EXPECT_EQ(NftOwner::parse(owner.comment()), owner);
    EXPECT_EQ(NftOwner::parse("sdnet net=a=b cid=c if=d"), (NftOwner{"a=b", "c", "d"}));
    EXPECT_EQ(NftOwner::parse("hello"), std::nullopt);
    EXPECT_EQ(NftOwner::parse("sdnet net= cid=c if=d"), std::nullopt);
    EXPECT_EQ(NftOwner::parse("sdnet net=a cid=c if=d extra"), std::nullopt);
    EXPECT_EQ(NftOwner::parse("sdnet net=a if=d cid=c"), std::nullopt);
}

TEST(NftUnitTest, OwnerValidationNamesTheOperation) {
    try {
        NftOwner{"net 1", "c", "eth0"}.validate("masq_add");
        FAIL();
    } catch (const InvalidInput& e) {
        EXPECT_STREQ(e.what(),
                     "masq_add net 1/c/eth0: network name is empty or contains whitespace");
    }
    EXPECT_THROW((NftOwner{"n", "", "eth0"}.validate("x")), InvalidInput);
    EXPECT_THROW((NftOwner{std::string(200, 'n'), std::string(64, 'c'), "eth0"}.validate("x")),
                 InvalidInput);
    EXPECT_NO_THROW((NftOwner{std::string(100, 'n'), std::string(64, 'c'), "eth0"}.validate("x")));
}

TEST(NftUnitTest, GcStaleIsAnUnlistedOwnerOfTheNetwork) {
    auto elem = [](std::string comment) {
        NftElem e;
        e.comment = std::move(comment);
        return e;
    };
    auto c1 = elem(NftOwner{"n", "c1", "eth0"}.comment());
    std::set<std::pair<std::string, std::string>> valid{{"c1", "eth1"}, {"c2", ""}};
    EXPECT_TRUE(nft_is_stale(c1, "n", valid));
    EXPECT_FALSE(nft_is_stale(c1, "other", valid));
    EXPECT_FALSE(nft_is_stale(elem("hand-made"), "n", valid));
    EXPECT_FALSE(nft_is_stale(c1, "n", {{"c1", "eth0"}}));
    auto c2 = elem(NftOwner{"n", "c2", "eth0"}.comment());
    EXPECT_TRUE(nft_is_stale(c2, "n", valid));
    EXPECT_FALSE(nft_is_stale(c2, "n", valid, NftIdOnly::KeepsContainer));
    EXPECT_TRUE(nft_is_stale(c1, "n", valid, NftIdOnly::KeepsContainer));
}

TEST(NftUnitTest, MasqChainNamesRoundTrip) {
    EXPECT_EQ(masq_chain_name(IpNet::parse("10.77.0.2/24")), "masq4_10_77_0_0_24");
    EXPECT_EQ(masq_chain_name(IpNet::parse("fd00:77::2/64")), "masq6_fd00_77_0_0_0_0_0_0_64");
    for (const char* net :
         {"10.77.0.0/24", "0.0.0.0/0", "192.0.2.7/32", "fd00:77::/64", "2001:db8:ffff::1/128"}) {
        auto subnet = IpNet::parse(net);
        EXPECT_EQ(masq_chain_subnet(masq_chain_name(subnet)), subnet) << net;
    }
    EXPECT_EQ(masq_chain_subnet("postrouting"), std::nullopt);
    EXPECT_EQ(masq_chain_subnet("masq4_10_77_0_0_33"), std::nullopt);
    EXPECT_EQ(masq_chain_subnet("masq4_fd00_0_0_0_0_0_0_0_64"), std::nullopt);
}

TEST(NftUnitTest, BatchDescribesEveryMessage) {
    NftBatch b;
    NftTableRef t{NftFamily::Inet, "sdnet_masq"};
    NftSet set{t, "masq4", {NftType::Ipv4Addr}, {NftType::Verdict}, false};
    EXPECT_EQ(b.add_table(t, NftCreate::MayExist), 0U);
    NftElem e{nft_key(IpAddr::parse("10.0.0.2")), {}, NftVerdict::jump("c"), {}, "x"};
    EXPECT_EQ(b.add_elements(set, std::span(&e, 1), NftCreate::Exclusive), 1U);
    EXPECT_EQ(b.size(), 2U);
    EXPECT_EQ(b.op(0), "NFT_MSG_NEWTABLE");
    EXPECT_EQ(b.object(0), "inet sdnet_masq");
    EXPECT_EQ(b.op(1), "NFT_MSG_NEWSETELEM");
    EXPECT_EQ(b.object(1), "inet sdnet_masq masq4 element 10.0.0.2");
}

}  // namespace
