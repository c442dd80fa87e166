// Against the reference bandwidth plugin (/usr/lib/cni/bandwidth, v1.1.1): the same qdiscs, and
// our CHECK and DEL accept what the reference's ADD made. The reverse holds only for the veth's
// qdiscs: our ifb is named per attachment, the reference looks for its own name (one per
// container and network), so its CHECK of our ADD fails and its DEL leaves our ifb.
#include <filesystem>
#include <gtest/gtest.h>

#include "netlib/netns.hpp"
#include "tests/bandwidth/bandwidth_harness.hpp"

namespace sdnet::test {
namespace {

constexpr const char* kReference = "/usr/lib/cni/bandwidth";

json limits_conf() {
    return bandwidth_conf(8'000'000, 800'000, 16'000'000, 1'600'000);
}

class Compat : public BandwidthTest {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(kReference)) {
            GTEST_SKIP() << kReference << " not installed (package containernetworking-plugins)";
        }
        BandwidthTest::SetUp();
    }

    // What `tc` shows of the veth's and the ifb's qdiscs, without the names and refcounts.
    static json tc_view(const json& bridge_result, const json& bandwidth_result) {
        json view = json::array();
        std::string ifb = bandwidth_result["interfaces"].back()["name"];
        for (const std::string& dev : {host_veth(bridge_result), ifb}) {
            for (auto q : tc_qdiscs("", dev)) {
                q.erase("dev");
                q.erase("refcnt");
                view.push_back(q);
            }
        }
        return view;
    }
};

TEST_F(Compat, SameQdiscsAndEachChecksTheOther) {
    auto ours = make_netns("ours");
    auto theirs = make_netns("ref");
    json p1 = attach(ours);
    json p2 = attach(theirs);
    auto r1 = bandwidth("ADD", ours, limits_conf(), p1);
    auto r2 = bandwidth("ADD", theirs, limits_conf(), p2, "eth0", kReference);
    ASSERT_EQ(r1.r.exit_code, 0) << r1.r.out << r1.r.err;
    ASSERT_EQ(r2.r.exit_code, 0) << r2.r.out << r2.r.err;
    EXPECT_EQ(tc_view(p1, r1.out), tc_view(p2, r2.out));
    EXPECT_EQ(r1.out["interfaces"].size(), r2.out["interfaces"].size());

    auto our_check = bandwidth("CHECK", theirs, limits_conf(), r2.out);
    EXPECT_EQ(our_check.r.exit_code, 0) << our_check.r.out << our_check.r.err;

    // Our DEL removes the reference's ifb (its veth redirects to it) and the veth's qdiscs.
    std::string their_ifb = r2.out["interfaces"].back()["name"];
    EXPECT_EQ(bandwidth("DEL", theirs, limits_conf(), r2.out).r.exit_code, 0);
    EXPECT_TRUE(link_of("", their_ifb).is_null());
    EXPECT_TRUE(qdisc_of_kind(tc_qdiscs("", host_veth(p2)), "tbf").is_null());
    // The reference's DEL succeeds on ours but does not know our ifb's name; ours then does.
    std::string our_ifb = r1.out["interfaces"].back()["name"];
    EXPECT_EQ(bandwidth("DEL", ours, limits_conf(), r1.out, "eth0", kReference).r.exit_code, 0);
    EXPECT_FALSE(link_of("", our_ifb).is_null());
    EXPECT_EQ(bandwidth("DEL", ours, limits_conf(), r1.out).r.exit_code, 0);
    EXPECT_TRUE(ifb_links("").empty());
}

// The reference's ifb records no owner, and its name is the same for every interface of a
// container on a network: our DEL of another interface must leave it to the one it shapes.
TEST_F(Compat, TheReferenceIfbOfAnotherInterfaceIsLeftAlone) {
    auto c1 = make_netns("c1");
    json p0 = attach(c1);
    json p1 = add(c1, unmasqueraded_bridge_conf(), "eth1");
    auto theirs = bandwidth("ADD", c1, limits_conf(), p0, "eth0", kReference);
    ASSERT_EQ(theirs.r.exit_code, 0) << theirs.r.out << theirs.r.err;
    std::string their_ifb = theirs.out["interfaces"].back()["name"];
    auto ours = bandwidth("ADD", c1, limits_conf(), p1, "eth1");
    ASSERT_EQ(ours.r.exit_code, 0) << ours.r.out << ours.r.err;

    EXPECT_EQ(bandwidth("DEL", c1, limits_conf(), ours.out, "eth1").r.exit_code, 0);
    EXPECT_FALSE(link_of("", their_ifb).is_null());
    auto targets = mirred_targets(tc_ingress_filters("", host_veth(p0)));
    EXPECT_FALSE(targets.empty());
    for (const auto& t : targets) {  // tc shows the reference's one redirect twice
        EXPECT_EQ(t, their_ifb);
    }
    EXPECT_EQ(ifb_links("").size(), 1u);
    // eth0's DEL: its veth redirects to the ifb, so it is eth0's.
    EXPECT_EQ(bandwidth("DEL", c1, limits_conf(), theirs.out, "eth0").r.exit_code, 0);
    EXPECT_TRUE(ifb_links("").empty());
}

// Once the container is gone no interface of it can need the reference's ifb.
TEST_F(Compat, TheReferenceIfbGoesWhenTheContainerIsGone) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    auto theirs = bandwidth("ADD", c1, limits_conf(), prev, "eth0", kReference);
    ASSERT_EQ(theirs.r.exit_code, 0) << theirs.r.out << theirs.r.err;
    { netlib::Netns drop = std::move(c1.ns); }
    ASSERT_TRUE(netlib::remove_named_netns(c1.name));
    auto d = bandwidth("DEL", c1, limits_conf(), theirs.out);
    EXPECT_EQ(d.r.exit_code, 0) << d.r.out << d.r.err;
    EXPECT_TRUE(ifb_links("").empty());
}

TEST_F(Compat, ReferenceCheckFailsWhereOursFails) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out;
    observe("tc qdisc change dev " + host_veth(prev) +
            " root tbf rate 9mbit burst 100000 latency 25ms");
    EXPECT_NE(bandwidth("CHECK", c1, limits_conf(), r.out).r.exit_code, 0);
    EXPECT_NE(bandwidth("CHECK", c1, limits_conf(), r.out, "eth0", kReference).r.exit_code, 0);
}

}  // namespace
}  // namespace sdnet::test
