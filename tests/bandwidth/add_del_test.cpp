// ADD, CHECK and DEL of the bandwidth plugin chained after the bridge, in private namespaces,
// observed with `tc -j` and `ip -j` as a user would.
#include <gtest/gtest.h>

#include "netlib/netns.hpp"
#include "tests/bandwidth/bandwidth_harness.hpp"

namespace sdnet::test {
namespace {

using AddDel = BandwidthTest;

// 8 Mbit/s with an 800 kbit burst in, 16 Mbit/s with 1.6 Mbit out: tbf 1 MB/s + 100 kB and
// 2 MB/s + 200 kB.
json limits_conf() {
    return bandwidth_conf(8'000'000, 800'000, 16'000'000, 1'600'000);
}

void expect_tbf(const json& qdiscs, std::uint64_t rate, std::uint64_t burst) {
    json tbf = qdisc_of_kind(qdiscs, "tbf");
    ASSERT_FALSE(tbf.is_null()) << qdiscs;
    EXPECT_EQ(tbf["handle"], "1:");
    EXPECT_EQ(tbf["root"], true);
    EXPECT_EQ(tbf["options"]["rate"], rate);
    EXPECT_EQ(tbf["options"]["burst"], burst);
    EXPECT_EQ(tbf["options"]["lat"], 25000);  // microseconds
}

TEST_F(AddDel, ShapesTheHostVethAndAnIfb) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    std::string veth = host_veth(prev);

    // Container ingress: tbf on the host veth. Container egress: ingress qdisc + u32 + mirred.
    auto qdiscs = tc_qdiscs("", veth);
    expect_tbf(qdiscs, 1'000'000, 100'000);
    json ingress = qdisc_of_kind(qdiscs, "ingress");
    ASSERT_FALSE(ingress.is_null()) << qdiscs;
    EXPECT_EQ(ingress["handle"], "ffff:");

    auto ifbs = ifb_links("");
    ASSERT_EQ(ifbs.size(), 1u) << ifbs;
    std::string ifb = ifbs[0]["ifname"];
    EXPECT_EQ(ifb.size(), 15u);
    EXPECT_EQ(ifb.substr(0, 3), "bwp");
    EXPECT_EQ(ifbs[0]["mtu"], link_of("", veth)["mtu"]);
    EXPECT_EQ(ifbs[0].value("txqlen", 0), 0);  // ip -j leaves out a txqlen of 0
    EXPECT_EQ(ifbs[0]["ifalias"], "sdnet-bridge/ctr-" + c1.name + "/eth0");
    auto flags = ifbs[0]["flags"];
    EXPECT_NE(std::find(flags.begin(), flags.end(), "UP"), flags.end());
    expect_tbf(tc_qdiscs("", ifb), 2'000'000, 200'000);

    auto filters = tc_ingress_filters("", veth);
    EXPECT_EQ(mirred_targets(filters), std::vector<std::string>{ifb}) << filters;
    for (const auto& f : filters) {
        EXPECT_EQ(f["protocol"], "all");
        EXPECT_EQ(f["pref"], 1);
        EXPECT_EQ(f["kind"], "u32");
        if (f.contains("options") && f["options"].contains("actions")) {
            EXPECT_EQ(f["options"]["match"]["mask"], "0");
            EXPECT_EQ(f["options"]["actions"][0]["mirred_action"], "redirect");
            EXPECT_EQ(f["options"]["actions"][0]["direction"], "egress");
        }
    }

    // The result is prevResult plus the ifb (a host interface, as the reference reports it).
    json expected = prev;
    expected["interfaces"].push_back({{"name", ifb}, {"mac", ifbs[0]["address"]}});
    EXPECT_EQ(r.out, expected);

    // Nothing was done inside the container.
    EXPECT_TRUE(qdisc_of_kind(tc_qdiscs(c1.name, "eth0"), "tbf").is_null());
    EXPECT_TRUE(ifb_links(c1.name).empty());
}

TEST_F(AddDel, OneDirectionOnly) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    auto r = bandwidth("ADD", c1, bandwidth_conf(8'000'000, 800'000, 0, 0), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    auto qdiscs = tc_qdiscs("", host_veth(prev));
    expect_tbf(qdiscs, 1'000'000, 100'000);
    EXPECT_TRUE(qdisc_of_kind(qdiscs, "ingress").is_null());
    EXPECT_TRUE(ifb_links("").empty());
    EXPECT_EQ(r.out, prev);
    EXPECT_EQ(bandwidth("CHECK", c1, bandwidth_conf(8'000'000, 800'000, 0, 0), r.out).r.exit_code,
              0);
}

// 40 Gbit/s is 5 GB/s, more than tc_tbf_qopt's 32-bit rate holds: the kernel must be given
// TCA_TBF_RATE64, or it shapes at ~4.29 GB/s (or refuses the qdisc).
TEST_F(AddDel, RatesAbove4GBytesPerSecondUseTheRate64Attribute) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    json conf = bandwidth_conf(40'000'000'000, 80'000'000, 48'000'000'000, 96'000'000);
    auto r = bandwidth("ADD", c1, conf, prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    expect_tbf(tc_qdiscs("", host_veth(prev)), 5'000'000'000, 10'000'000);
    expect_tbf(tc_qdiscs("", r.out["interfaces"].back()["name"]), 6'000'000'000, 12'000'000);
    auto check = bandwidth("CHECK", c1, conf, r.out);
    EXPECT_EQ(check.r.exit_code, 0) << check.r.out;
}

TEST_F(AddDel, NoLimitsPassPrevResultThrough) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    json conf = bandwidth_conf(0, 0, 0, 0);
    conf["ingressRate"] = 0;
    auto r = bandwidth("ADD", c1, conf, prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    EXPECT_EQ(r.out, prev);
    EXPECT_TRUE(qdisc_of_kind(tc_qdiscs("", host_veth(prev)), "tbf").is_null());
    EXPECT_TRUE(ifb_links("").empty());
    EXPECT_EQ(bandwidth("CHECK", c1, conf, prev).r.exit_code, 0);
    EXPECT_EQ(bandwidth("DEL", c1, conf, prev).r.exit_code, 0);
}

TEST_F(AddDel, ResultInOlderVersions) {
    auto c1 = make_netns("c1");
    json prev = add(c1, unmasqueraded_bridge_conf("0.4.0"));
    auto r =
        bandwidth("ADD", c1, bandwidth_conf(8'000'000, 800'000, 8'000'000, 800'000, "0.4.0"), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    EXPECT_EQ(r.out["cniVersion"], "0.4.0");
    EXPECT_EQ(r.out["ips"][0]["version"], "4");
    EXPECT_EQ(r.out["interfaces"].size(), 4u);
}

TEST_F(AddDel, CheckPassesThenFailsOnEveryHandChange) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    EXPECT_EQ(bandwidth("CHECK", c1, limits_conf(), r.out).r.exit_code, 0);
    std::string veth = host_veth(prev);
    std::string ifb = ifb_links("")[0]["ifname"];

    // A config that differs from the kernel fails CHECK.
    auto other =
        bandwidth("CHECK", c1, bandwidth_conf(8'000'000, 800'000, 16'000'000, 800'000), r.out);
    EXPECT_NE(other.r.exit_code, 0);
    EXPECT_NE(other.out.value("msg", "").find(ifb), std::string::npos) << other.out;

    // The rate of the veth's tbf changed by hand.
    observe("tc qdisc change dev " + veth + " root tbf rate 9mbit burst 100000 latency 25ms");
    auto rate = bandwidth("CHECK", c1, limits_conf(), r.out);
    EXPECT_EQ(rate.code(), 999) << rate.r.out;
    EXPECT_NE(rate.out.value("msg", "").find(veth), std::string::npos) << rate.out;
    observe("tc qdisc change dev " + veth + " root tbf rate 8mbit burst 100000 latency 25ms");
    EXPECT_EQ(bandwidth("CHECK", c1, limits_conf(), r.out).r.exit_code, 0);

    // Only the limit (latency) of the ifb's tbf changed.
    observe("tc qdisc change dev " + ifb + " root tbf rate 16mbit burst 200000 latency 50ms");
    EXPECT_EQ(bandwidth("CHECK", c1, limits_conf(), r.out).code(), 999);
    observe("tc qdisc change dev " + ifb + " root tbf rate 16mbit burst 200000 latency 25ms");
    EXPECT_EQ(bandwidth("CHECK", c1, limits_conf(), r.out).r.exit_code, 0);

    // The redirect to the ifb removed.
    observe("tc qdisc del dev " + veth + " ingress");
    auto redirect = bandwidth("CHECK", c1, limits_conf(), r.out);
    EXPECT_EQ(redirect.code(), 999);
    EXPECT_NE(redirect.out.value("msg", "").find("ingress"), std::string::npos) << redirect.out;

    // No prevResult.
    EXPECT_EQ(bandwidth("CHECK", c1, limits_conf(), nullptr).code(), 7);
}

TEST_F(AddDel, DelRemovesTheIfbAndTwiceIsFine) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    ASSERT_EQ(ifb_links("").size(), 1u);

    auto d1 = bandwidth("DEL", c1, limits_conf(), r.out);
    EXPECT_EQ(d1.r.exit_code, 0) << d1.r.out;
    EXPECT_TRUE(d1.r.out.empty());
    EXPECT_TRUE(ifb_links("").empty());
    // The veth's qdiscs go too: an interface that outlives the DEL must not stay shaped.
    std::string veth = host_veth(prev);
    ASSERT_FALSE(link_of("", veth).is_null());
    auto qdiscs = tc_qdiscs("", veth);
    EXPECT_TRUE(qdisc_of_kind(qdiscs, "tbf").is_null()) << qdiscs;
    EXPECT_TRUE(qdisc_of_kind(qdiscs, "ingress").is_null()) << qdiscs;

    auto d2 = bandwidth("DEL", c1, limits_conf(), r.out);
    EXPECT_EQ(d2.r.exit_code, 0) << d2.r.out;
    auto d3 = bandwidth("DEL", c1, limits_conf(), nullptr);  // no prevResult
    EXPECT_EQ(d3.r.exit_code, 0) << d3.r.out;
    EXPECT_EQ(run("DEL", c1, unmasqueraded_bridge_conf()).r.exit_code, 0);
    EXPECT_EQ(bandwidth("DEL", c1, limits_conf(), r.out).r.exit_code, 0);  // veth gone too
}

TEST_F(AddDel, DelWithoutLimitsStillRemovesEverything) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    auto d = bandwidth("DEL", c1, bandwidth_conf(0, 0, 0, 0), r.out);
    EXPECT_EQ(d.r.exit_code, 0) << d.r.out;
    EXPECT_TRUE(ifb_links("").empty());
    auto qdiscs = tc_qdiscs("", host_veth(prev));
    EXPECT_TRUE(qdisc_of_kind(qdiscs, "tbf").is_null()) << qdiscs;
    EXPECT_TRUE(qdisc_of_kind(qdiscs, "ingress").is_null()) << qdiscs;
}

TEST_F(AddDel, DelLeavesQdiscsItDidNotAdd) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    json p1 = attach(c1);
    json p2 = attach(c2);
    // Egress only: ADD leaves the root alone, where someone puts a qdisc of their own.
    json egress = bandwidth_conf(0, 0, 8'000'000, 800'000);
    ASSERT_EQ(bandwidth("ADD", c1, egress, p1).r.exit_code, 0);
    observe("tc qdisc add dev " + host_veth(p1) + " root handle 5: pfifo");
    // Ingress only: ADD adds no ingress qdisc; someone else's has no redirect to our ifb.
    json ingress = bandwidth_conf(8'000'000, 800'000, 0, 0);
    ASSERT_EQ(bandwidth("ADD", c2, ingress, p2).r.exit_code, 0);
    observe("tc qdisc add dev " + host_veth(p2) + " ingress");

    EXPECT_EQ(bandwidth("DEL", c1, egress, p1).r.exit_code, 0);
    EXPECT_EQ(bandwidth("DEL", c2, ingress, p2).r.exit_code, 0);
    auto q1 = tc_qdiscs("", host_veth(p1));
    EXPECT_FALSE(qdisc_of_kind(q1, "pfifo").is_null()) << q1;
    EXPECT_TRUE(qdisc_of_kind(q1, "ingress").is_null()) << q1;
    auto q2 = tc_qdiscs("", host_veth(p2));
    EXPECT_FALSE(qdisc_of_kind(q2, "ingress").is_null()) << q2;
    EXPECT_TRUE(qdisc_of_kind(q2, "tbf").is_null()) << q2;
    EXPECT_TRUE(ifb_links("").empty());
}

TEST_F(AddDel, TwoInterfacesOfOneContainerOnOneNetwork) {
    auto c1 = make_netns("c1");
    json p0 = attach(c1);
    json p1 = add(c1, unmasqueraded_bridge_conf(), "eth1");
    auto r0 = bandwidth("ADD", c1, limits_conf(), p0, "eth0");
    ASSERT_EQ(r0.r.exit_code, 0) << r0.r.out << r0.r.err;
    auto r1 = bandwidth("ADD", c1, limits_conf(), p1, "eth1");
    ASSERT_EQ(r1.r.exit_code, 0) << r1.r.out << r1.r.err;
    std::string ifb0 = r0.out["interfaces"].back()["name"];
    std::string ifb1 = r1.out["interfaces"].back()["name"];
    EXPECT_NE(ifb0, ifb1);
    EXPECT_EQ(link_of("", ifb0)["ifalias"], "sdnet-bridge/ctr-" + c1.name + "/eth0");
    EXPECT_EQ(mirred_targets(tc_ingress_filters("", host_veth(p0))),
              std::vector<std::string>{ifb0});
    EXPECT_EQ(mirred_targets(tc_ingress_filters("", host_veth(p1))),
              std::vector<std::string>{ifb1});

    // Removing eth1's shaping leaves eth0's whole.
    EXPECT_EQ(bandwidth("DEL", c1, limits_conf(), r1.out, "eth1").r.exit_code, 0);
    EXPECT_TRUE(link_of("", ifb1).is_null());
    EXPECT_FALSE(link_of("", ifb0).is_null());
    EXPECT_EQ(mirred_targets(tc_ingress_filters("", host_veth(p0))),
              std::vector<std::string>{ifb0});
    auto check = bandwidth("CHECK", c1, limits_conf(), r0.out, "eth0");
    EXPECT_EQ(check.r.exit_code, 0) << check.r.out;
}

TEST_F(AddDel, DelAfterTheNetnsIsGone) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    { netlib::Netns drop = std::move(c1.ns); }
    ASSERT_TRUE(netlib::remove_named_netns(c1.name));

    auto d = bandwidth("DEL", c1, limits_conf(), r.out);
    EXPECT_EQ(d.r.exit_code, 0) << d.r.out << d.r.err;
    EXPECT_TRUE(ifb_links("").empty());
    // Without CNI_NETNS at all.
    auto e = run_env({{"CNI_COMMAND", "DEL"},
                      {"CNI_CONTAINERID", "ctr-" + c1.name},
                      {"CNI_IFNAME", "eth0"},
                      {"CNI_PATH", plugin_path("")}},
                     limits_conf(), plugin_path("bandwidth"));
    EXPECT_EQ(e.r.exit_code, 0) << e.r.out << e.r.err;
}

TEST_F(AddDel, TwoContainersGetTheirOwnIfb) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    json p1 = attach(c1);
    json p2 = attach(c2);
    ASSERT_EQ(bandwidth("ADD", c1, limits_conf(), p1).r.exit_code, 0);
    ASSERT_EQ(bandwidth("ADD", c2, limits_conf(), p2).r.exit_code, 0);
    auto ifbs = ifb_links("");
    ASSERT_EQ(ifbs.size(), 2u);
    EXPECT_NE(ifbs[0]["ifname"], ifbs[1]["ifname"]);
    EXPECT_EQ(bandwidth("DEL", c1, limits_conf(), p1).r.exit_code, 0);
    ifbs = ifb_links("");
    ASSERT_EQ(ifbs.size(), 1u);
    EXPECT_EQ(ifbs[0]["ifalias"], "sdnet-bridge/ctr-" + c2.name + "/eth0");
}

TEST_F(AddDel, StatusIsOk) {
    auto s = run_env({{"CNI_COMMAND", "STATUS"}, {"CNI_PATH", plugin_path("")}},
                     bandwidth_conf(8'000'000, 800'000, 0, 0, "1.1.0"), plugin_path("bandwidth"));
    EXPECT_EQ(s.r.exit_code, 0) << s.r.out << s.r.err;
    EXPECT_TRUE(s.r.out.empty());
}

}  // namespace
}  // namespace sdnet::test
