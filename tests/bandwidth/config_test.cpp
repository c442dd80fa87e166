// Configuration: every bad key is refused with the spec's code naming the key, before anything
// is changed; runtimeConfig.bandwidth against the top level.
#include <gtest/gtest.h>

#include "tests/bandwidth/bandwidth_harness.hpp"

namespace sdnet::test {
namespace {

using Config = BandwidthTest;

struct BadCase {
    const char* name;
    json keys;         // merged into the top level
    int code;          // expected CNI error code
    const char* word;  // the message must name it
};

// A prevResult for a container that needs no kernel state: parsing fails before any lookup.
json fake_prev(const TestNetns& ns) {
    return {{"cniVersion", "1.0.0"},
            {"interfaces", {{{"name", "eth0"}, {"sandbox", ns.path}}}},
            {"ips", json::array()}};
}

TEST_F(Config, EveryBadKeyIsRefusedNamingIt) {
    auto c1 = make_netns("c1");
    const std::uint64_t k4GiBits = 8ULL * 4294967296ULL;
    const std::vector<BadCase> cases = {
        {"negative rate", {{"ingressRate", -1}, {"ingressBurst", 800}}, 7, "ingressRate"},
        {"string burst", {{"ingressRate", 8000}, {"ingressBurst", "800"}}, 7, "ingressBurst"},
        {"float rate", {{"egressRate", 1.5}, {"egressBurst", 800}}, 7, "egressRate"},
        {"bool burst", {{"egressRate", 8000}, {"egressBurst", true}}, 7, "egressBurst"},
        {"negative burst", {{"egressRate", 8000}, {"egressBurst", -8}}, 7, "egressBurst"},
        {"rate without burst", {{"ingressRate", 8000}}, 7, "ingressBurst"},
        {"burst without rate", {{"egressBurst", 800}}, 7, "egressRate"},
        {"burst of 4 GiB", {{"egressRate", 8000000}, {"egressBurst", k4GiBits}}, 7, "4GB"},
        {"rate below 8 bit/s", {{"egressRate", 7}, {"egressBurst", 800}}, 7, "egressRate"},
        {"burst below 8 bits", {{"ingressRate", 8000}, {"ingressBurst", 4}}, 7, "ingressBurst"},
        {"queue limit over 4 GiB",
         {{"ingressRate", 8ULL << 60}, {"ingressBurst", 800}},
         7,
         "ingressRate"},
        {"runtimeConfig.bandwidth not an object",
         {{"runtimeConfig", {{"bandwidth", "fast"}}}},
         7,
         "bandwidth"},
        {"runtimeConfig rate negative",
         {{"runtimeConfig", {{"bandwidth", {{"egressRate", -5}, {"egressBurst", 800}}}}}},
         7,
         "egressRate"},
        {"shapedSubnets", {{"shapedSubnets", {"10.0.0.0/8"}}}, 2, "shapedSubnets"},
    };
    for (const auto& c : cases) {
        json conf = bandwidth_conf(0, 0, 0, 0);
        conf.update(c.keys);
        for (const char* verb : {"ADD", "CHECK"}) {
            auto r = bandwidth(verb, c1, conf, fake_prev(c1));
            EXPECT_NE(r.r.exit_code, 0) << c.name;
            EXPECT_EQ(r.code(), c.code) << c.name << ": " << r.r.out;
            EXPECT_NE(r.out.value("msg", "").find(c.word), std::string::npos)
                << c.name << ": " << r.r.out;
        }
    }
    EXPECT_TRUE(ifb_links("").empty());
}

// What containerd 1.6 (pkg/cri toCNIBandWidth: math.MaxUint32) and CRI-O (math.MaxUint32*8 - 1)
// put in runtimeConfig.bandwidth for every kubernetes.io/ingress-bandwidth and egress-bandwidth
// annotation: a burst meaning "no limit", far more than a tbf can hold at 10 Mbit/s.
constexpr std::uint64_t kContainerdBurst = 4294967295ULL;
constexpr std::uint64_t kCrioBurst = 4294967295ULL * 8 - 1;

json kubernetes_conf(std::uint64_t burst) {
    json conf = bandwidth_conf(0, 0, 0, 0);
    conf["capabilities"] = {{"bandwidth", true}};
    conf["runtimeConfig"] = {{"bandwidth",
                              {{"ingressRate", 10'000'000},
                               {"ingressBurst", burst},
                               {"egressRate", 10'000'000},
                               {"egressBurst", burst}}}};
    return conf;
}

// The largest bucket a tbf holds: 2^32-1 scheduler ticks of 64 ns (274.88 s), at 1.25 MB/s.
constexpr double kMaxBurstBytesAt10Mbit = 343'597'383;

TEST_F(Config, KubernetesBurstsAreClampedToWhatTheKernelHolds) {
    for (std::uint64_t burst : {kContainerdBurst, kCrioBurst}) {
        SCOPED_TRACE(burst);
        auto c1 = make_netns(burst == kContainerdBurst ? "containerd" : "crio");
        json prev = attach(c1);
        json conf = kubernetes_conf(burst);
        auto r = bandwidth("ADD", c1, conf, prev);
        ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
        EXPECT_NE(r.r.err.find("\"ingressBurst\" " + std::to_string(burst)), std::string::npos)
            << r.r.err;
        EXPECT_NE(r.r.err.find("\"egressBurst\""), std::string::npos) << r.r.err;
        std::string ifb = r.out["interfaces"].back()["name"];
        for (const std::string& dev : {host_veth(prev), ifb}) {
            json tbf = qdisc_of_kind(tc_qdiscs("", dev), "tbf");
            ASSERT_FALSE(tbf.is_null()) << dev;
            EXPECT_EQ(tbf["options"]["rate"], 1'250'000) << dev;
            EXPECT_NEAR(tbf["options"]["burst"].get<double>(), kMaxBurstBytesAt10Mbit, 2) << dev;
        }
        auto check = bandwidth("CHECK", c1, conf, r.out);
        EXPECT_EQ(check.r.exit_code, 0) << check.r.out;
        auto del = bandwidth("DEL", c1, conf, r.out);
        EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
        EXPECT_TRUE(ifb_links("").empty());
        EXPECT_EQ(run("DEL", c1, unmasqueraded_bridge_conf()).r.exit_code, 0);
    }
}

// containerd stops a chain's teardown at the first failing DEL: a DEL refusing a value only ADD
// needs would leak everything of the plugins before it. DEL reads no limit at all.
TEST_F(Config, DelSucceedsAndCleansUpWhateverTheLimitsSay) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    auto r = bandwidth("ADD", c1, bandwidth_conf(8'000'000, 800'000, 8'000'000, 800'000), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    const std::vector<json> bad = {
        {{"ingressRate", -1}, {"ingressBurst", 800}},
        {{"egressRate", 8000000}, {"egressBurst", 8ULL * 4294967296ULL}},
        {{"ingressRate", 8000}},
        {{"runtimeConfig", {{"bandwidth", "fast"}}}},
    };
    for (const auto& keys : bad) {
        json conf = bandwidth_conf(0, 0, 0, 0);
        conf.update(keys);
        auto d = bandwidth("DEL", c1, conf, r.out);
        EXPECT_EQ(d.r.exit_code, 0) << keys << ": " << d.r.out;
        EXPECT_TRUE(ifb_links("").empty()) << keys;
        EXPECT_TRUE(qdisc_of_kind(tc_qdiscs("", host_veth(prev)), "tbf").is_null()) << keys;
    }
}

TEST_F(Config, NoPrevResultIsAClearError) {
    auto c1 = make_netns("c1");
    auto r = bandwidth("ADD", c1, bandwidth_conf(8000, 800, 0, 0), nullptr);
    EXPECT_EQ(r.code(), 7) << r.r.out;
    EXPECT_NE(r.out.value("msg", "").find("chained"), std::string::npos) << r.r.out;
    EXPECT_TRUE(ifb_links("").empty());
}

TEST_F(Config, RuntimeConfigWhenTheTopLevelHasNoKeys) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    json conf = bandwidth_conf(0, 0, 0, 0);
    conf["capabilities"] = {{"bandwidth", true}};
    conf["runtimeConfig"] = {
        {"bandwidth", {{"ingressRate", 8'000'000}, {"ingressBurst", 800'000}}}};
    auto r = bandwidth("ADD", c1, conf, prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    json tbf = qdisc_of_kind(tc_qdiscs("", host_veth(prev)), "tbf");
    ASSERT_FALSE(tbf.is_null());
    EXPECT_EQ(tbf["options"]["rate"], 1'000'000);
    EXPECT_TRUE(ifb_links("").empty());
    EXPECT_EQ(bandwidth("CHECK", c1, conf, r.out).r.exit_code, 0);
}

TEST_F(Config, TheTopLevelWinsOverRuntimeConfigAsAWhole) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    // Top level: ingress only, keys in another case (matched case-insensitively, as Go does).
    json conf = bandwidth_conf(0, 0, 0, 0);
    conf["IngressRate"] = 16'000'000;
    conf["ingressburst"] = 1'600'000;
    conf["runtimeConfig"] = {{"bandwidth",
                              {{"ingressRate", 8'000'000},
                               {"ingressBurst", 800'000},
                               {"egressRate", 8'000'000},
                               {"egressBurst", 800'000}}}};
    auto r = bandwidth("ADD", c1, conf, prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    json tbf = qdisc_of_kind(tc_qdiscs("", host_veth(prev)), "tbf");
    ASSERT_FALSE(tbf.is_null());
    EXPECT_EQ(tbf["options"]["rate"], 2'000'000);
    EXPECT_TRUE(ifb_links("").empty());  // runtimeConfig's egress ignored
}

}  // namespace
}  // namespace sdnet::test
