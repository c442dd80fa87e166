#include "ipam/range.hpp"

#include <gtest/gtest.h>
#include <set>

#include "plugins/cni/error.hpp"

namespace ipam {
namespace {

using netlib::IpAddr;
using netlib::IpNet;

IpAddr ip(const char* s) {
    return IpAddr::parse(s);
}

std::optional<IpAddr> opt(const char* s) {
    return IpAddr::parse(s);
}

Range range(const char* subnet, std::optional<IpAddr> start = {}, std::optional<IpAddr> end = {},
            std::optional<IpAddr> gw = {}) {
    return Range::make(IpNet::parse(subnet), start, end, gw, "ipam.ranges[0][0]");
}

// Every candidate the iterator offers, in order.
std::vector<std::string> walk(const RangeSet& set, std::optional<IpAddr> last = {},
                              std::size_t limit = 1000) {
    std::vector<std::string> out;
    RangeIter it{set, last};
    while (auto c = it.next()) {
        out.push_back(c->ip.to_string());
        if (out.size() > limit) {
            ADD_FAILURE() << "iterator did not stop";
            break;
        }
    }
    return out;
}

// Expects Range::make to fail with code 7 and a message containing every fragment.
void expect_invalid(const std::function<void()>& f, std::initializer_list<std::string> parts) {
    try {
        f();
        ADD_FAILURE() << "no error";
    } catch (const cni::Error& e) {
        EXPECT_EQ(e.code(), cni::Code::InvalidConfig);
        for (const auto& p : parts) {
            EXPECT_NE(std::string{e.what()}.find(p), std::string::npos)
                << "'" << p << "' not in: " << e.what();
        }
    }
}

TEST(RangeTest, Ipv4Defaults) {
    Range r = range("10.0.0.0/24");
    EXPECT_EQ(r.gateway, ip("10.0.0.1"));
    EXPECT_EQ(r.start, ip("10.0.0.1"));
    EXPECT_EQ(r.end, ip("10.0.0.254"));  // the broadcast address is left out
    EXPECT_EQ(r.to_string(), "10.0.0.1-10.0.0.254");
    EXPECT_EQ(r.capacity(), 253u);  // .2 - .254
}

TEST(RangeTest, Ipv6Defaults) {
    Range r = range("fd00::/120");
    EXPECT_EQ(r.gateway, ip("fd00::1"));
    EXPECT_EQ(r.start, ip("fd00::1"));
    EXPECT_EQ(r.end, ip("fd00::ff"));  // IPv6 has no broadcast
    EXPECT_EQ(r.capacity(), 254u);     // ::2 - ::ff
    EXPECT_EQ(range("fd00::/64").capacity(), std::numeric_limits<std::uint64_t>::max() - 1);
    EXPECT_EQ(range("::/0").capacity(), std::numeric_limits<std::uint64_t>::max());
}

TEST(RangeTest, ExplicitBounds) {
    Range r = range("10.0.0.0/24", opt("10.0.0.10"), opt("10.0.0.20"), opt("10.0.0.15"));
    EXPECT_TRUE(r.contains(ip("10.0.0.10")));
    EXPECT_TRUE(r.contains(ip("10.0.0.20")));
    EXPECT_FALSE(r.contains(ip("10.0.0.9")));
    EXPECT_FALSE(r.contains(ip("10.0.0.21")));
    EXPECT_FALSE(r.contains(ip("fd00::10")));
    EXPECT_FALSE(r.usable(ip("10.0.0.15")));
    EXPECT_EQ(r.capacity(), 10u);
}

TEST(RangeTest, RejectsHostBits) {
    expect_invalid([] { range("10.0.0.5/24"); },
                   {"ipam.ranges[0][0].subnet", "10.0.0.5/24", "host bits", "10.0.0.0/24"});
    expect_invalid([] { range("fd00::1/64"); }, {"subnet", "fd00::1/64", "host bits"});
}

TEST(RangeTest, RejectsTooSmallSubnets) {
    for (const char* s : {"10.0.0.0/31", "10.0.0.0/32", "fd00::/127", "fd00::/128"}) {
        expect_invalid([&] { range(s); }, {"ipam.ranges[0][0].subnet", s, "too small"});
    }
    EXPECT_NO_THROW(range("10.0.0.0/30"));
    EXPECT_NO_THROW(range("fd00::/126"));
}

TEST(RangeTest, RejectsBoundsOutsideTheSubnet) {
    expect_invalid([] { range("10.0.0.0/24", opt("10.0.1.1")); },
                   {"ipam.ranges[0][0].rangeStart", "10.0.1.1", "10.0.0.0/24"});
    expect_invalid([] { range("10.0.0.0/24", {}, opt("10.0.1.1")); },
                   {"ipam.ranges[0][0].rangeEnd", "10.0.1.1"});
    expect_invalid([] { range("10.0.0.0/24", {}, {}, opt("10.0.1.1")); },
                   {"ipam.ranges[0][0].gateway", "10.0.1.1"});
    expect_invalid([] { range("10.0.0.0/24", opt("fd00::1")); }, {"rangeStart", "fd00::1"});
}

TEST(RangeTest, RejectsStartAfterEnd) {
    expect_invalid([] { range("10.0.0.0/24", opt("10.0.0.20"), opt("10.0.0.10")); },
                   {"rangeStart", "10.0.0.20", "after", "10.0.0.10"});
}

TEST(RangeTest, Overlaps) {
    Range a = range("10.0.0.0/24", opt("10.0.0.10"), opt("10.0.0.20"));
    EXPECT_TRUE(a.overlaps(range("10.0.0.0/24", opt("10.0.0.20"), opt("10.0.0.30"))));
    EXPECT_TRUE(a.overlaps(range("10.0.0.0/16")));  // contains it entirely
    EXPECT_FALSE(a.overlaps(range("10.0.0.0/24", opt("10.0.0.21"), opt("10.0.0.30"))));
    EXPECT_FALSE(a.overlaps(range("fd00::/64")));
}

TEST(RangeSetTest, Validation) {
    expect_invalid([] { RangeSet::make({}, "ipam.ranges[1]"); }, {"ipam.ranges[1]", "empty"});
    expect_invalid(
        [] {
            RangeSet::make({range("10.0.0.0/24"), range("fd00::/64")}, "ipam.ranges[0]");
        },
        {"ipam.ranges[0]", "mixes", "10.0.0.0/24", "fd00::/64"});
    expect_invalid(
        [] {
            RangeSet::make({range("10.0.0.0/24"), range("10.0.0.0/25")}, "ipam.ranges[0]");
        },
        {"ipam.ranges[0]", "overlapping"});
    auto set = RangeSet::make({range("10.0.0.0/24"), range("10.0.1.0/24")}, "x");
    EXPECT_EQ(set.to_string(), "10.0.0.1-10.0.0.254,10.0.1.1-10.0.1.254");
    EXPECT_EQ(set.capacity(), 506u);
    EXPECT_EQ(set.range_for(ip("10.0.1.7")), &set.ranges[1]);
    EXPECT_EQ(set.range_for(ip("10.0.2.7")), nullptr);
}

TEST(RangeIterTest, StartsAtRangeStartSkippingTheGateway) {
    auto set = RangeSet::make({range("10.0.0.0/29")}, "x");
    EXPECT_EQ(walk(set), (std::vector<std::string>{"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5",
                                                   "10.0.0.6"}));
}

TEST(RangeIterTest, ResumesAfterLastReservedAndWraps) {
    auto set = RangeSet::make({range("10.0.0.0/29")}, "x");
    EXPECT_EQ(
        walk(set, ip("10.0.0.4")),
        (std::vector<std::string>{"10.0.0.5", "10.0.0.6", "10.0.0.2", "10.0.0.3", "10.0.0.4"}));
    // The end of the range: wraps at once.
    EXPECT_EQ(walk(set, ip("10.0.0.6")).front(), "10.0.0.2");
    // A last reserved address outside the set is ignored.
    EXPECT_EQ(walk(set, ip("192.168.0.1")).front(), "10.0.0.2");
}

TEST(RangeIterTest, GatewayInTheMiddleIsSkipped) {
    auto set = RangeSet::make({range("10.0.0.0/29", {}, {}, opt("10.0.0.4"))}, "x");
    EXPECT_EQ(walk(set), (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5",
                                                   "10.0.0.6"}));
}

TEST(RangeIterTest, SkipsNetworkAndBroadcastEvenWhenInRange) {
    auto set = RangeSet::make(
        {range("10.0.0.0/29", opt("10.0.0.0"), opt("10.0.0.7"), opt("10.0.0.3"))}, "x");
    EXPECT_EQ(walk(set), (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.5",
                                                   "10.0.0.6"}));
    EXPECT_EQ(set.capacity(), 5u);
}

TEST(RangeIterTest, MovesAcrossRangesAndWrapsToTheFirst) {
    auto set = RangeSet::make({range("10.0.0.0/24", opt("10.0.0.10"), opt("10.0.0.11")),
                               range("10.0.1.0/24", opt("10.0.1.20"), opt("10.0.1.21"))},
                              "x");
    EXPECT_EQ(walk(set),
              (std::vector<std::string>{"10.0.0.10", "10.0.0.11", "10.0.1.20", "10.0.1.21"}));
    EXPECT_EQ(walk(set, ip("10.0.0.11")),
              (std::vector<std::string>{"10.0.1.20", "10.0.1.21", "10.0.0.10", "10.0.0.11"}));
    EXPECT_EQ(walk(set, ip("10.0.1.21")),
              (std::vector<std::string>{"10.0.0.10", "10.0.0.11", "10.0.1.20", "10.0.1.21"}));
}

TEST(RangeIterTest, Ipv6IterationCarriesAcrossBytes) {
    auto set = RangeSet::make({range("fd00::/64", opt("fd00::fffe"), opt("fd00::1:1"))}, "x");
    EXPECT_EQ(walk(set),
              (std::vector<std::string>{"fd00::fffe", "fd00::ffff", "fd00::1:0", "fd00::1:1"}));
    auto full = RangeSet::make({range("fd00::/64")}, "x");
    RangeIter it{full, std::nullopt};
    EXPECT_EQ(it.next()->ip, ip("fd00::2"));  // fd00::1 is the gateway
    RangeIter from_end{full, ip("fd00::ffff:ffff:ffff:fffe")};
    EXPECT_EQ(from_end.next()->ip, ip("fd00::ffff:ffff:ffff:ffff"));  // no broadcast in IPv6
    EXPECT_EQ(from_end.next()->ip, ip("fd00::2"));                    // wrapped
}

TEST(RangeIterTest, OffersEveryUsableAddressExactlyOnce) {
    auto set = RangeSet::make(
        {range("10.0.0.0/26", opt("10.0.0.5"), opt("10.0.0.40")), range("10.0.1.0/28")}, "x");
    for (const char* last : {"10.0.0.5", "10.0.0.23", "10.0.0.40", "10.0.1.14", "10.0.1.2"}) {
        auto seen = walk(set, ip(last));
        EXPECT_EQ(seen.size(), set.capacity()) << last;
        EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size()) << last;
        EXPECT_EQ(seen.back(), last);  // the last reserved address is retried last
    }
}

TEST(RangeIterTest, GatewayOnlyRangeOffersNothing) {
    auto set = RangeSet::make({range("10.0.0.0/24", opt("10.0.0.1"), opt("10.0.0.1"))}, "x");
    EXPECT_TRUE(walk(set).empty());
    EXPECT_EQ(set.capacity(), 0u);
}

TEST(RangeTest, CanonicalMapsV4MappedAddresses) {
    EXPECT_EQ(canonical(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
    EXPECT_EQ(canonical(ip("fd00::1")), ip("fd00::1"));
}

}  // namespace
}  // namespace ipam
