// Against the reference bandwidth plugin (/usr/lib/cni/bandwidth, v1.1.1): the same qdiscs,
// and each plugin's CHECK and DEL accept what the other's ADD made.
#include <filesystem>
#include <gtest/gtest.h>

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

    auto their_check = bandwidth("CHECK", ours, limits_conf(), r1.out, "eth0", kReference);
    EXPECT_EQ(their_check.r.exit_code, 0) << their_check.r.out << their_check.r.err;
    auto our_check = bandwidth("CHECK", theirs, limits_conf(), r2.out);
    EXPECT_EQ(our_check.r.exit_code, 0) << our_check.r.out << our_check.r.err;

    // Our DEL removes the reference's ifb (same name), and the reference's ours.
    EXPECT_EQ(bandwidth("DEL", theirs, limits_conf(), r2.out).r.exit_code, 0);
    EXPECT_EQ(bandwidth("DEL", ours, limits_conf(), r1.out, "eth0", kReference).r.exit_code, 0);
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
