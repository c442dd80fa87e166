// The generic layer against the kernel: NftBatch/NftSocket, with `nft -j` as the observer.

#include <cerrno>
#include <gtest/gtest.h>

#include "netlib/nft.hpp"
#include "netlib/nft_owned.hpp"
#include "tests/nft/nft_test_util.hpp"

namespace {

using namespace netlib;
using nfttest::json_chains;
using nfttest::json_elems;
using nfttest::json_has_table;
using nfttest::JsonElem;
using nfttest::nft_ruleset;

class NftSocketTest : public nfttest::NetnsTest {
protected:
    NftTableRef table_{NftFamily::Inet, "t"};
    NftSet addrs_{table_, "addrs", {NftType::Ipv4Addr}, {}, false};
    NftSet ports_{table_, "ports", {NftType::Ifname, NftType::EtherAddr}, {}, false};
    NftSet vmap_{table_, "vm", {NftType::Ipv6Addr}, {NftType::Verdict}, false};
    NftChain target_{table_, "target", std::nullopt};
    NftChain base_{table_, "post",
                   NftBaseChain{NftChainType::Nat, NftHook::Postrouting, kNftPrioSrcNat, true}};

    NftElem addr(const char* ip, std::string comment = {}) {
        return {nft_key(IpAddr::parse(ip)), {}, {}, {}, std::move(comment)};
    }

    // A table with every kind of object this layer builds.
    NftBatch full_batch() {
        NftBatch b;
        b.add_table(table_, NftCreate::MayExist);
        b.add_set(addrs_, NftCreate::MayExist);
        b.add_set(ports_, NftCreate::MayExist);
        b.add_set(vmap_, NftCreate::MayExist);
        b.add_chain(target_, NftCreate::Exclusive);
        b.add_chain(base_, NftCreate::Exclusive);
        NftRule masq(table_, base_.name);
        masq.match_prefix(NftAddrField::Dst, IpNet::parse("10.0.0.0/8"), NftCmpOp::Neq)
            .load_addr(Family::V4, NftAddrField::Src, NftReg::R1)
            .lookup(addrs_.name, NftReg::R1)
            .masquerade()
            .comment("masq rule");
        b.add_rule(masq);
        NftRule vm(table_, base_.name);
        vm.load_addr(Family::V6, NftAddrField::Src, NftReg::R1).vmap(vmap_.name, NftReg::R1);
        b.add_rule(vm);
        std::vector<NftElem> elems{addr("10.1.0.2", "first"), addr("10.1.0.3", "second")};
        b.add_elements(addrs_, elems, NftCreate::Exclusive);
        NftElem port{
            nft_concat({nft_key_ifname("veth0"), nft_key(MacAddr::parse("02:00:00:00:00:01"))}),
            {},
            {},
            {},
            "port"};
        b.add_elements(ports_, std::span(&port, 1), NftCreate::Exclusive);
        NftElem jump{nft_key(IpAddr::parse("fd00::2")), {}, NftVerdict::jump("target"), {}, "v6"};
        b.add_elements(vmap_, std::span(&jump, 1), NftCreate::Exclusive);
        return b;
    }
};

TEST_F(NftSocketTest, CommitsABatchNftCanRead) {
    NftSocket sock;
    sock.commit(full_batch());

    auto rs = nft_ruleset();
    EXPECT_EQ(json_chains(rs, "inet", "t"), (std::vector<std::string>{"post", "target"}));
    EXPECT_EQ(json_elems(rs, "inet", "t", "addrs"),
              (std::vector<JsonElem>{{"10.1.0.2", "first", ""}, {"10.1.0.3", "second", ""}}));
    EXPECT_EQ(json_elems(rs, "inet", "t", "ports"),
              (std::vector<JsonElem>{{"veth0 . 02:00:00:00:00:01", "port", ""}}));
    EXPECT_EQ(json_elems(rs, "inet", "t", "vm"),
              (std::vector<JsonElem>{{"fd00::2", "v6", "target"}}));
    // nft decodes our rule expressions back into its own syntax.
    std::string text = nfttest::capture({"nft", "list", "chain", "inet", "t", "post"});
    EXPECT_NE(text.find("ip daddr != 10.0.0.0/8 ip saddr @addrs masquerade comment \"masq rule\""),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("ip6 saddr vmap @vm"), std::string::npos) << text;
}

TEST_F(NftSocketTest, ReadsElementsBack) {
    NftSocket sock;
    EXPECT_EQ(sock.list_elements(addrs_), std::nullopt);
    EXPECT_EQ(sock.get_element(addrs_, nft_key(IpAddr::parse("10.1.0.2"))), std::nullopt);
    EXPECT_FALSE(sock.has_chain(target_));
    sock.commit(full_batch());

    auto elems = sock.list_elements(addrs_);
    ASSERT_TRUE(elems);
    EXPECT_EQ(elems->size(), 2U);
    auto got = sock.get_element(addrs_, nft_key(IpAddr::parse("10.1.0.3")));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->comment, "second");
    EXPECT_EQ(sock.get_element(addrs_, nft_key(IpAddr::parse("10.1.0.9"))), std::nullopt);
    auto jump = sock.get_element(vmap_, nft_key(IpAddr::parse("fd00::2")));
    ASSERT_TRUE(jump);
    EXPECT_EQ(jump->verdict, NftVerdict::jump("target"));
    EXPECT_TRUE(sock.has_chain(target_));
}

TEST_F(NftSocketTest, RejectedBatchAppliesNothingAndNamesEveryFailure) {
    NftSocket sock;
    NftBatch b = full_batch();
    std::size_t bad_chain = b.add_chain(target_, NftCreate::Exclusive);  // EEXIST: same batch
    NftElem missing = addr("10.9.9.9");
    std::size_t bad_del = b.del_elements(addrs_, std::span(&missing, 1));  // ENOENT
    try {
        sock.commit(b);
        FAIL() << "commit succeeded";
    } catch (const NftBatchError& e) {
        ASSERT_EQ(e.failures().size(), 2U) << e.what();
        ASSERT_NE(e.find(bad_chain), nullptr);
        EXPECT_EQ(e.find(bad_chain)->code, EEXIST);
        EXPECT_EQ(e.find(bad_del)->code, ENOENT);
        EXPECT_EQ(e.code(), EEXIST);
        EXPECT_EQ(std::string(e.what()).rfind("NFT_MSG_NEWCHAIN inet t target: File exists (", 0),
                  0U)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("1 more failed message(s))"), std::string::npos);
        EXPECT_EQ(e.find(bad_del)->object, "inet t addrs element 10.9.9.9");
    }
    EXPECT_FALSE(json_has_table(nft_ruleset(), "inet", "t"));
}

TEST_F(NftSocketTest, ErrorNamesOperationAndObject) {
    NftSocket sock;
    NftBatch b;
    b.add_chain(NftChain{{NftFamily::Ip, "nosuch"}, "c", std::nullopt}, NftCreate::MayExist);
    try {
        sock.commit(b);
        FAIL() << "commit succeeded";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ENOENT);
        EXPECT_EQ(std::string(e.what()).rfind(
                      "NFT_MSG_NEWCHAIN ip nosuch c: No such file or directory", 0),
                  0U)
            << e.what();
    }
}

TEST_F(NftSocketTest, ExtendedAckNamesTheRejectedAttribute) {
    NftSocket sock;
    sock.commit(full_batch());
    NftBatch chain;
    chain.add_chain(target_, NftCreate::Exclusive);
    NftBatch rule;
    rule.add_rule(NftRule(table_, target_.name).lookup("nosuchset", NftReg::R1));
    for (auto* batch : {&chain, &rule}) {
        try {
            sock.commit(*batch);
            ADD_FAILURE() << "commit succeeded";
        } catch (const NftBatchError& e) {
            ASSERT_EQ(e.failures().size(), 1U);
            EXPECT_NE(e.failures()[0].detail.find("rejected"), std::string::npos) << e.what();
        }
    }
    try {
        sock.commit(chain);
    } catch (const NftBatchError& e) {
        EXPECT_EQ(e.failures()[0].detail, "rejected \"target\"");
    }
}

TEST_F(NftSocketTest, MayExistIsIdempotentAndExclusiveIsNot) {
    NftSocket sock;
    sock.commit(full_batch());
    NftBatch again;
    again.add_table(table_, NftCreate::MayExist);
    again.add_set(addrs_, NftCreate::MayExist);
    NftElem same = addr("10.1.0.2", "other comment");
    again.add_elements(addrs_, std::span(&same, 1), NftCreate::MayExist);
    sock.commit(again);
    // MayExist keeps the stored element as it was.
    EXPECT_EQ(sock.get_element(addrs_, same.key)->comment, "first");

    NftBatch excl;
    excl.add_elements(addrs_, std::span(&same, 1), NftCreate::Exclusive);
    EXPECT_THROW(sock.commit(excl), NftBatchError);
}

TEST_F(NftSocketTest, ReferencedChainCannotBeDeleted) {
    NftSocket sock;
    sock.commit(full_batch());
    EXPECT_FALSE(nft_delete_chain_if_unused(sock, target_));  // vm element jumps to it
    NftElem jump{nft_key(IpAddr::parse("fd00::2")), {}, {}, {}, {}};
    NftBatch b;
    b.del_elements(vmap_, std::span(&jump, 1));
    sock.commit(b);
    EXPECT_TRUE(nft_delete_chain_if_unused(sock, target_));
    EXPECT_FALSE(nft_delete_chain_if_unused(sock, target_));  // gone already
    EXPECT_FALSE(sock.has_chain(target_));
}

TEST_F(NftSocketTest, PortmapStyleDnatMap) {
    // What the portmap plugin will need: a map from "proto . host address . port" to
    // "container address . port", used by a dnat rule.
    NftSet map{table_,
               "hostports",
               {NftType::InetProto, NftType::Ipv4Addr, NftType::InetService},
               {NftType::Ipv4Addr, NftType::InetService},
               false};
    EXPECT_EQ(map.key_len(), 12U);
    EXPECT_EQ(map.data_len(), 8U);
    NftChain dnat{table_, "prerouting",
                  NftBaseChain{NftChainType::Nat, NftHook::Prerouting, kNftPrioDstNat, true}};
    NftRule rule(table_, dnat.name);
    rule.load_meta(NftMetaKey::L4proto, nft_reg32(0))
        .load_addr(Family::V4, NftAddrField::Dst, nft_reg32(1))
        .add(NftPayloadExpr{NftPayloadBase::Transport, 2, 2, nft_reg32(2)})
        .map(map.name, nft_reg32(0), nft_reg32(4))
        .add(NftNatExpr{true, Family::V4, nft_reg32(4), nft_reg32(5)});
    NftElem elem{
        nft_concat({nft_key_proto(6), nft_key(IpAddr::parse("192.0.2.1")), nft_key_port(8080)}),
        {},
        {},
        nft_concat({nft_key(IpAddr::parse("10.77.0.2")), nft_key_port(80)}),
        "sdnet net=n cid=c if=eth0"};
    NftBatch b;
    b.add_table(table_, NftCreate::MayExist);
    b.add_set(map, NftCreate::MayExist);
    b.add_chain(dnat, NftCreate::Exclusive);
    b.add_rule(rule);
    b.add_elements(map, std::span(&elem, 1), NftCreate::Exclusive);
    NftSocket sock;
    sock.commit(b);
    std::string text = nfttest::capture({"nft", "list", "table", "inet", "t"});
    EXPECT_NE(text.find("dnat ip to meta l4proto . ip daddr . th dport map @hostports"),
              std::string::npos)
        << text;
    EXPECT_NE(
        text.find("tcp . 192.0.2.1 . 8080 comment \"sdnet net=n cid=c if=eth0\" : 10.77.0.2 . 80"),
        std::string::npos)
        << text;
    EXPECT_EQ(sock.get_element(map, elem.key)->data, elem.data);
}

TEST_F(NftSocketTest, LargeBatchesAndDumps) {
    // Thousands of elements: the send buffer grows and the dump spans many messages.
    NftSocket sock;
    NftBatch b;
    b.add_table(table_, NftCreate::MayExist);
    b.add_set(addrs_, NftCreate::MayExist);
    std::vector<NftElem> elems;
    for (int i = 0; i < 5000; ++i) {
        std::uint8_t bytes[4] = {10, 2, static_cast<std::uint8_t>(i >> 8),
                                 static_cast<std::uint8_t>(i & 0xff)};
        elems.push_back({nft_key(IpAddr::from_bytes(bytes)),
                         {},
                         {},
                         {},
                         "sdnet net=n cid=" + std::to_string(i) + " if=eth0"});
    }
    b.add_elements(addrs_, elems, NftCreate::Exclusive);
    sock.commit(b);
    auto listed = sock.list_elements(addrs_);
    ASSERT_TRUE(listed);
    EXPECT_EQ(listed->size(), elems.size());
}

}  // namespace
