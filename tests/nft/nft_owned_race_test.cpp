// Owner-tagged removal and replacement racing another owner (netlib/nft_owned.hpp). The race is
// made deterministic: the callbacks that judge an element (`pred`, `on_taken`) run between the
// read and the delete, and give the key to another owner right there, through another socket,
// as a concurrent CNI process would.

#include <gtest/gtest.h>
#include <stdexcept>

#include "netlib/nft.hpp"
#include "netlib/nft_owned.hpp"
#include "tests/nft/nft_test_util.hpp"

namespace {

using namespace netlib;
using nfttest::json_elems;
using nfttest::JsonElem;
using nfttest::nft_ruleset;

const NftOwner kOld{"n", "old", "eth0"};
const NftOwner kNew{"n", "new", "eth0"};
const NftOwner kMine{"n", "mine", "eth0"};

class NftOwnedRaceTest : public nfttest::NetnsTest {
protected:
    NftTableRef table_{NftFamily::Inet, "race"};
    NftSet addrs_{table_, "addrs", {NftType::Ipv4Addr}, {}, false};
    NftSkeleton skeleton_{{table_}, {addrs_}, {}, {}};

    NftSetElem owned(const NftOwner& owner) const {
        return {addrs_, {nft_key(IpAddr::parse("10.1.0.2")), {}, {}, {}, owner.comment()}};
    }

    // What another process does: replaces whatever holds the key by `owner`'s element.
    void give_key_to(const NftOwner& owner) {
        NftSocket other;
        auto e = owned(owner);
        NftBatch b;
        b.del_elements(addrs_, std::span(&e.elem, 1));
        b.add_elements(addrs_, std::span(&e.elem, 1), NftCreate::Exclusive);
        other.commit(b);
    }

    std::vector<JsonElem> stored() {
        return json_elems(nft_ruleset(), "inet", "race", "addrs").value_or(std::vector<JsonElem>{});
    }

    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        NftSocket sock;
        auto old = owned(kOld);
        nft_ensure_elements(sock, skeleton_, std::span(&old, 1));
        ASSERT_EQ(stored(), (std::vector<JsonElem>{{"10.1.0.2", kOld.comment(), ""}}));
    }
};

TEST_F(NftOwnedRaceTest, RemovalByKeySparesAnElementReplacedAfterTheCheck) {
    NftSocket sock;
    int calls = 0;
    auto is_old = [&](const NftElem& e) {
        if (calls++ == 0) {
            give_key_to(kNew);  // after the read, before the delete
        }
        return e.comment == kOld.comment();
    };
    auto key = owned(kOld);
    auto removed = nft_remove_elements_if(sock, std::span(&key, 1), is_old);

    EXPECT_TRUE(removed.empty());
    EXPECT_EQ(stored(), (std::vector<JsonElem>{{"10.1.0.2", kNew.comment(), ""}}))
        << "the old owner's removal deleted the new owner's element";
    EXPECT_EQ(calls, 2) << "the replaced element was not judged again";
}

TEST_F(NftOwnedRaceTest, RemovalByListingSparesAnElementReplacedAfterTheCheck) {
    NftSocket sock;
    int calls = 0;
    auto is_old = [&](const NftElem& e) {
        if (calls++ == 0) {
            give_key_to(kNew);
        }
        return e.comment == kOld.comment();
    };
    auto removed = nft_remove_all_if(sock, std::span(&addrs_, 1), is_old);

    EXPECT_TRUE(removed.empty());
    EXPECT_EQ(stored(), (std::vector<JsonElem>{{"10.1.0.2", kNew.comment(), ""}}));
}

// Like a portmap ADD: a stale holder may be replaced, a live one is a conflict. The live one
// arrives between the check of the stale one and the replacement.
TEST_F(NftOwnedRaceTest, ReplacementIsJudgedAgainWhenTheHolderChangedAfterTheCheck) {
    NftSocket sock;
    int calls = 0;
    auto on_taken = [&](const NftSetElem&, const NftElem& holder) {
        ++calls;
        if (holder.comment != kOld.comment()) {
            throw std::runtime_error("held by " + holder.comment);
        }
        give_key_to(kNew);
    };
    auto mine = owned(kMine);

    EXPECT_THROW(nft_ensure_elements(sock, skeleton_, std::span(&mine, 1), on_taken),
                 std::runtime_error);
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(stored(), (std::vector<JsonElem>{{"10.1.0.2", kNew.comment(), ""}}))
        << "the replacement deleted an element it never judged";
}

TEST_F(NftOwnedRaceTest, StaleHolderIsReplacedWhenNothingChanged) {
    NftSocket sock;
    auto mine = owned(kMine);
    auto result = nft_ensure_elements(sock, skeleton_, std::span(&mine, 1),
                                      [](const NftSetElem&, const NftElem&) {});
    EXPECT_EQ(result, (std::vector<NftEnsured>{NftEnsured::Replaced}));
    EXPECT_EQ(stored(), (std::vector<JsonElem>{{"10.1.0.2", kMine.comment(), ""}}));
}

TEST_F(NftOwnedRaceTest, CommitAtAnOldGenerationAppliesNothing) {
    NftSocket sock;
    auto generation = sock.generation();
    give_key_to(kNew);
    EXPECT_NE(sock.generation(), generation);
    auto mine = owned(kMine);
    NftBatch b;
    b.del_elements(addrs_, std::span(&mine.elem, 1));
    try {
        sock.commit(b, generation);
        FAIL() << "committed at a generation that is gone";
    } catch (const NftBatchError& err) {
        EXPECT_TRUE(nft_generation_changed(err)) << err.what();
    }
    EXPECT_EQ(stored(), (std::vector<JsonElem>{{"10.1.0.2", kNew.comment(), ""}}));
    sock.commit(b, sock.generation());
    EXPECT_TRUE(stored().empty());
}

}  // namespace
