// Side by side with the reference tuning plugin (containernetworking-plugins 1.1.1 in
// /usr/lib/cni; it has no txQLen yet): same result, same saved file, and each DELs what the
// other ADDed.
#include <filesystem>
#include <gtest/gtest.h>

#include "tests/tuning/tuning_harness.hpp"

namespace sdnet::test {
namespace {

class Compat : public TuningTest {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(kReferenceTuning)) {
            GTEST_SKIP() << kReferenceTuning << " is not installed";
        }
        TuningTest::SetUp();
    }

    const json keys_ = {{"mac", "0a:58:0a:58:00:09"},
                        {"mtu", 1400},
                        {"promisc", true},
                        {"allmulti", true},
                        {"sysctl", {{"net.ipv4.conf.IFNAME.arp_notify", "1"}}}};
};

TEST_F(Compat, SameResultAndSavedFile) {
    const auto& c2 = container("c2");
    auto ours = tuning("ADD", c1(), conf(c1(), keys_));
    auto ref = tuning("ADD", c2, conf(c2, keys_), kReferenceTuning);
    ASSERT_EQ(ours.r.exit_code, 0) << ours.r.out;
    ASSERT_EQ(ref.r.exit_code, 0) << ref.r.out;
    // Modulo the namespace path and the MAC each interface had before.
    EXPECT_EQ(ours.out["interfaces"][0]["mac"], ref.out["interfaces"][0]["mac"]);
    EXPECT_EQ(ours.out["ips"], ref.out["ips"]);
    EXPECT_EQ(ours.out["cniVersion"], ref.out["cniVersion"]);
    EXPECT_EQ(link(c1()), link(c2));

    auto mine = saved(c1());
    auto theirs = saved(c2);
    ASSERT_TRUE(mine && theirs);
    json a = json::parse(*mine);
    json b = json::parse(*theirs);
    a.erase("mac");
    b.erase("mac");
    EXPECT_EQ(a, b) << *mine << "\n" << *theirs;
    // Byte for byte but for the MAC value.
    std::string their_mac = json::parse(*theirs)["mac"];
    std::string my_mac = json::parse(*mine)["mac"];
    std::string layout = *theirs;
    layout.replace(layout.find(their_mac), their_mac.size(), my_mac);
    EXPECT_EQ(*mine, layout);
}

TEST_F(Compat, EachDelsWhatTheOtherAdded) {
    const auto& c2 = container("c2");
    LinkState before1 = link(c1());
    LinkState before2 = link(c2);
    ASSERT_EQ(tuning("ADD", c1(), conf(c1(), keys_), kReferenceTuning).r.exit_code, 0);
    ASSERT_EQ(tuning("ADD", c2, conf(c2, keys_)).r.exit_code, 0);

    auto del = tuning("DEL", c1(), conf(c1(), keys_));
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    EXPECT_EQ(link(c1()), before1);
    EXPECT_FALSE(saved(c1()));

    del = tuning("DEL", c2, conf(c2, keys_), kReferenceTuning);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    EXPECT_EQ(link(c2), before2);
    EXPECT_FALSE(saved(c2));
}

TEST_F(Compat, SameAnswersToBadInput) {
    for (const json& bad :
         {json{{"sysctl", {{"kernel.hostname", "x"}}}}, json{{"mac", "not-a-mac"}}}) {
        auto ours = tuning("ADD", c1(), conf(c1(), bad));
        EXPECT_NE(ours.r.exit_code, 0);
        // The reference saves the originals before it parses the MAC, and leaves the file.
        EXPECT_FALSE(saved(c1()));
        auto ref = tuning("ADD", c1(), conf(c1(), bad), kReferenceTuning);
        EXPECT_NE(ref.r.exit_code, 0) << bad.dump();
    }
}

}  // namespace
}  // namespace sdnet::test
