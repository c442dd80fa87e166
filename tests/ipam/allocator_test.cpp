#include "ipam/allocator.hpp"

#include <gtest/gtest.h>

#include "plugins/cni/error.hpp"
#include "tests/support/fake_store.hpp"

namespace ipam {
namespace {

using netlib::IpAddr;
using netlib::IpNet;

IpAddr ip(const char* s) {
    return IpAddr::parse(s);
}

RangeSet set_of(const char* subnet, std::optional<IpAddr> start = {},
                std::optional<IpAddr> end = {}) {
    return RangeSet::make({Range::make(IpNet::parse(subnet), start, end, {}, "r")}, "r");
}

class AllocatorTest : public ::testing::Test {
protected:
    sdnet::test::FakeStore store_;
    RangeSet set_ = set_of("10.0.0.0/29");  // usable .2 - .6

    std::string alloc(const std::string& id, std::optional<IpAddr> requested = {},
                      const RangeSet* set = nullptr, std::size_t index = 0) {
        StoreLock lock{store_};
        Allocator a{set != nullptr ? *set : set_, index, store_};
        return a.allocate({id, "eth0"}, requested).address.to_string();
    }

    void release(const std::string& id) {
        StoreLock lock{store_};
        store_.release_all({id, "eth0"});
    }

    cni::Error alloc_error(const std::string& id, std::optional<IpAddr> requested = {}) {
        try {
            alloc(id, requested);
        } catch (const cni::Error& e) {
            return e;
        }
        ADD_FAILURE() << "no error";
        return cni::Error(cni::Code::Internal, "none");
    }
};

TEST_F(AllocatorTest, AllocatesInOrderWithPrefixAndGateway) {
    StoreLock lock{store_};
    Allocator a{set_, 0, store_};
    auto c = a.allocate({"c1", "eth0"}, std::nullopt);
    EXPECT_EQ(c.address.to_string(), "10.0.0.2/29");
    EXPECT_EQ(c.gateway, ip("10.0.0.1"));
    EXPECT_FALSE(c.interface);
    EXPECT_EQ(store_.last.at(0), ip("10.0.0.2"));
    EXPECT_EQ(store_.reserved.at(ip("10.0.0.2")), (Attachment{"c1", "eth0"}));
}

TEST_F(AllocatorTest, RoundRobinDoesNotReuseAReleasedAddressAtOnce) {
    EXPECT_EQ(alloc("a"), "10.0.0.2/29");
    EXPECT_EQ(alloc("b"), "10.0.0.3/29");
    release("a");
    EXPECT_EQ(alloc("c"), "10.0.0.4/29");
    EXPECT_EQ(alloc("d"), "10.0.0.5/29");
    EXPECT_EQ(alloc("e"), "10.0.0.6/29");
    EXPECT_EQ(alloc("f"), "10.0.0.2/29");  // wrapped to the address a released
}

TEST_F(AllocatorTest, ExhaustionNamesTheRangeAfterProbingEachAddressOnce) {
    for (const char* id : {"a", "b", "c", "d", "e"}) {
        alloc(id);
    }
    store_.reserve_calls = 0;
    auto e = alloc_error("z");
    EXPECT_EQ(e.code(), cni::Code::Internal);
    EXPECT_STREQ(e.what(), "no IP addresses available in range set: 10.0.0.1-10.0.0.6");
    EXPECT_EQ(store_.reserve_calls, 5);
}

TEST_F(AllocatorTest, DuplicateAllocationIsRefused) {
    alloc("a");
    auto e = alloc_error("a");
    EXPECT_EQ(e.code(), cni::Code::Internal);
    EXPECT_NE(std::string{e.what()}.find("duplicate allocation is not allowed"), std::string::npos);
    EXPECT_NE(std::string{e.what()}.find("10.0.0.2"), std::string::npos);
    // Also with a requested address, which the reference does not check.
    EXPECT_EQ(alloc_error("a", ip("10.0.0.5")).code(), cni::Code::Internal);
    // Another ifname of the same container is a different attachment.
    StoreLock lock{store_};
    EXPECT_NO_THROW(Allocator(set_, 0, store_).allocate({"a", "eth1"}, std::nullopt));
}

TEST_F(AllocatorTest, LegacyIdOnlyReservationCountsAsDuplicate) {
    store_.reserved.emplace(ip("10.0.0.4"), Attachment{"old", ""});
    EXPECT_EQ(alloc_error("old").code(), cni::Code::Internal);
}

TEST_F(AllocatorTest, DuplicateCheckIsPerRangeSet) {
    RangeSet v6 = set_of("fd00::/120");
    alloc("a");
    EXPECT_EQ(alloc("a", std::nullopt, &v6, 1), "fd00::2/120");
    EXPECT_EQ(store_.last.at(0), ip("10.0.0.2"));
    EXPECT_EQ(store_.last.at(1), ip("fd00::2"));
}

TEST_F(AllocatorTest, RequestedAddresses) {
    EXPECT_EQ(alloc("a", ip("10.0.0.5")), "10.0.0.5/29");
    EXPECT_EQ(store_.last.at(0), ip("10.0.0.5"));
    auto taken = alloc_error("b", ip("10.0.0.5"));
    EXPECT_EQ(taken.code(), cni::Code::Internal);
    EXPECT_NE(std::string{taken.what()}.find("10.0.0.5 is not available"), std::string::npos);
    for (const char* bad : {"10.0.0.1", "10.0.0.9", "fd00::1"}) {
        auto e = alloc_error("c", ip(bad));
        EXPECT_EQ(e.code(), cni::Code::InvalidConfig) << bad;
        EXPECT_NE(std::string{e.what()}.find(bad), std::string::npos) << e.what();
    }
    RangeSet wide = set_of("10.1.0.0/29", ip("10.1.0.0"), ip("10.1.0.7"));
    StoreLock lock{store_};
    Allocator a{wide, 0, store_};
    for (const char* bad : {"10.1.0.0", "10.1.0.7", "10.1.0.1"}) {
        try {
            a.allocate({"d", "eth0"}, ip(bad));
            ADD_FAILURE() << bad;
        } catch (const cni::Error& e) {
            EXPECT_EQ(e.code(), cni::Code::InvalidConfig) << e.what();
        }
    }
}

TEST_F(AllocatorTest, SkipsAddressesTakenBySomeoneElse) {
    store_.reserved.emplace(ip("10.0.0.2"), Attachment{"x", "eth0"});
    store_.reserved.emplace(ip("10.0.0.3"), Attachment{"y", "eth0"});
    EXPECT_EQ(alloc("a"), "10.0.0.4/29");
}

}  // namespace
}  // namespace ipam
