// Every tuning key as a user sees it in the kernel (`ip -j`, /proc/sys), the saved state, and
// its restore on DEL.
#include <gtest/gtest.h>

#include "tests/tuning/tuning_harness.hpp"

namespace sdnet::test {
namespace {

using Tuning = TuningTest;

const json kAllKeys = {{"mac", "0a:58:0a:58:00:05"},
                       {"mtu", 1400},
                       {"promisc", true},
                       {"allmulti", true},
                       {"txQLen", 500},
                       {"sysctl",
                        {{"net.ipv4.conf.IFNAME.arp_notify", "1"},
                         {"net/ipv4/conf/eth0/rp_filter", "2"},
                         {"net.ipv4.ping_group_range", "0 7"}}}};

TEST_F(Tuning, EveryKeyReachesTheKernelAndTheResult) {
    LinkState before = link(c1());
    auto r = tuning("ADD", c1(), conf(c1(), kAllKeys));
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    EXPECT_EQ(link(c1()), (LinkState{"0a:58:0a:58:00:05", 1400, true, true, 500}));
    EXPECT_EQ(sysctl(c1(), "net/ipv4/conf/eth0/arp_notify"), "1");
    EXPECT_EQ(sysctl(c1(), "net/ipv4/conf/eth0/rp_filter"), "2");
    EXPECT_EQ(sysctl(c1(), "net/ipv4/ping_group_range"), "0\t7");
    // The sysctls went into the container, not the test's own namespace.
    EXPECT_NE(observe("cat /proc/sys/net/ipv4/ping_group_range"), "0\t7\n");
    // The result is prevResult with the new MAC.
    json want = prev_result(c1());
    EXPECT_EQ(r.out["interfaces"][0]["mac"], "0a:58:0a:58:00:05");
    EXPECT_EQ(r.out["ips"], want["ips"]);
    EXPECT_NE(before.mac, "0a:58:0a:58:00:05");
}

TEST_F(Tuning, SavesTheOriginalsInTheReferenceLayoutAndDelRestoresThem) {
    LinkState before = link(c1());
    ASSERT_EQ(tuning("ADD", c1(), conf(c1(), kAllKeys)).r.exit_code, 0);
    auto file = saved(c1());
    ASSERT_TRUE(file);
    EXPECT_EQ(*file, "{\n \"mac\": \"" + before.mac +
                         "\",\n \"promisc\": false,\n \"mtu\": 1500,\n \"allmulti\": false,\n "
                         "\"txQLen\": " +
                         std::to_string(before.txqlen) + "\n}");

    auto del = tuning("DEL", c1(), conf(c1(), kAllKeys));
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    EXPECT_TRUE(del.r.out.empty()) << del.r.out;
    EXPECT_EQ(link(c1()), before);
    EXPECT_FALSE(saved(c1()));
    // Sysctls are not restored (the reference does not either): they die with the namespace.
    EXPECT_EQ(sysctl(c1(), "net/ipv4/conf/eth0/arp_notify"), "1");
}

TEST_F(Tuning, OnlyWhatChangesIsSaved) {
    ASSERT_EQ(tuning("ADD", c1(), conf(c1(), {{"mtu", 1300}})).r.exit_code, 0);
    EXPECT_EQ(saved(c1()), "{\n \"mtu\": 1500\n}");
    // Sysctls alone save nothing.
    const auto& c2 = container("c2");
    ASSERT_EQ(tuning("ADD", c2, conf(c2, {{"sysctl", {{"net.ipv4.conf.eth0.arp_notify", "1"}}}}))
                  .r.exit_code,
              0);
    EXPECT_FALSE(saved(c2));
}

TEST_F(Tuning, DelWithoutFileTwiceAndWithTheNamespaceGone) {
    auto c = conf(c1(), {{"mtu", 1300}});
    EXPECT_EQ(tuning("DEL", c1(), c).r.exit_code, 0);  // nothing was ever added
    ASSERT_EQ(tuning("ADD", c1(), c).r.exit_code, 0);
    EXPECT_EQ(tuning("DEL", c1(), c).r.exit_code, 0);
    EXPECT_EQ(tuning("DEL", c1(), c).r.exit_code, 0);
    EXPECT_EQ(link(c1()).mtu, 1500);

    const auto& c2 = container("c2");
    auto c2conf = conf(c2, {{"mtu", 1300}});
    ASSERT_EQ(tuning("ADD", c2, c2conf).r.exit_code, 0);
    ASSERT_TRUE(saved(c2));
    observe("ip netns del " + c2.name);
    auto del = tuning("DEL", c2, c2conf);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out << del.r.err;
    EXPECT_FALSE(saved(c2));
}

TEST_F(Tuning, DelWithAnEmptyNetnsRemovesTheFile) {
    auto c = conf(c1(), {{"mtu", 1300}});
    ASSERT_EQ(tuning("ADD", c1(), c).r.exit_code, 0);
    auto del = run_env({{"CNI_COMMAND", "DEL"},
                        {"CNI_CONTAINERID", "ctr-" + c1().name},
                        {"CNI_NETNS", ""},
                        {"CNI_IFNAME", "eth0"},
                        {"CNI_PATH", plugin_path("")}},
                       c, plugin_path("tuning"));
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    EXPECT_FALSE(saved(c1()));
}

TEST_F(Tuning, DataDirIsHonoured) {
    auto c = conf(c1(), {{"promisc", true}, {"dataDir", "/run/cni/elsewhere"}});
    ASSERT_EQ(tuning("ADD", c1(), c).r.exit_code, 0);
    EXPECT_FALSE(saved(c1()));
    EXPECT_EQ(saved(c1(), "/run/cni/elsewhere"), "{\n \"promisc\": false\n}");
    EXPECT_EQ(tuning("DEL", c1(), c).r.exit_code, 0);
    EXPECT_FALSE(saved(c1(), "/run/cni/elsewhere"));
    EXPECT_FALSE(link(c1()).promisc);
}

TEST_F(Tuning, PodmansKeylessTuningPassesThePrevResultThrough) {
    auto c = conf(c1(), json::object(), "0.4.0");
    auto r = tuning("ADD", c1(), c);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_EQ(r.out["interfaces"], c["prevResult"]["interfaces"]);
    EXPECT_EQ(r.out["ips"][0]["version"], "4");
    EXPECT_FALSE(saved(c1()));
    EXPECT_EQ(tuning("DEL", c1(), c).r.exit_code, 0);
}

TEST_F(Tuning, MacPrecedenceAndArgsOverrides) {
    // mac < CNI_ARGS MAC < runtimeConfig.mac < args.cni.mac
    json keys = {{"mac", "0a:00:00:00:00:01"}};
    auto r = tuning("ADD", c1(), conf(c1(), keys), "", "IgnoreUnknown=1;MAC=0a:00:00:00:00:02");
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_EQ(link(c1()).mac, "0a:00:00:00:00:02");
    tuning("DEL", c1(), conf(c1(), keys));

    keys["runtimeConfig"] = {{"mac", "0a:00:00:00:00:03"}};
    r = tuning("ADD", c1(), conf(c1(), keys), "", "MAC=0a:00:00:00:00:02");
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_EQ(link(c1()).mac, "0a:00:00:00:00:03");
    tuning("DEL", c1(), conf(c1(), keys));

    keys["args"] = {{"cni",
                     {{"mac", "0a:00:00:00:00:04"},
                      {"mtu", 1280},
                      {"promisc", true},
                      {"allmulti", true},
                      {"txQLen", 42},
                      {"sysctl", {{"net.ipv4.conf.IFNAME.arp_notify", "1"}}}}}};
    keys["mtu"] = 1400;
    keys["sysctl"] = {{"net.ipv4.conf.IFNAME.arp_notify", "0"}};
    r = tuning("ADD", c1(), conf(c1(), keys), "", "MAC=0a:00:00:00:00:02");
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_EQ(link(c1()), (LinkState{"0a:00:00:00:00:04", 1280, true, true, 42}));
    EXPECT_EQ(r.out["interfaces"][0]["mac"], "0a:00:00:00:00:04");
    EXPECT_EQ(sysctl(c1(), "net/ipv4/conf/eth0/arp_notify"), "1");
}

TEST_F(Tuning, CheckComparesEveryKey) {
    auto c = conf(c1(), kAllKeys);
    ASSERT_EQ(tuning("ADD", c1(), c).r.exit_code, 0);
    auto check = tuning("CHECK", c1(), c);
    EXPECT_EQ(check.r.exit_code, 0) << check.r.out;

    observe("ip -n " + c1().name + " link set eth0 mtu 1450");
    check = tuning("CHECK", c1(), c);
    EXPECT_EQ(check.code(), 999) << check.r.out;
    EXPECT_NE(check.out.value("msg", "").find("MTU 1450"), std::string::npos) << check.r.out;
    observe("ip -n " + c1().name + " link set eth0 mtu 1400");

    observe("ip netns exec " + c1().name +
            " sh -c 'echo 0 > /proc/sys/net/ipv4/conf/eth0/rp_filter'");
    check = tuning("CHECK", c1(), c);
    EXPECT_EQ(check.code(), 999) << check.r.out;
    EXPECT_NE(check.out.value("msg", "").find("rp_filter"), std::string::npos) << check.r.out;

    c.erase("prevResult");
    EXPECT_EQ(tuning("CHECK", c1(), c).code(), 7);
}

}  // namespace
}  // namespace sdnet::test
