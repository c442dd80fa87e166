// Without a host-side veth (a macvlan here; ipvlan is missing from this kernel) the limits go
// inside the container namespace: tbf on CNI_IFNAME for egress, an ifb there for ingress.
#include <gtest/gtest.h>

#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"
#include "tests/bandwidth/bandwidth_harness.hpp"

namespace sdnet::test {
namespace {

json limits_conf() {
    return bandwidth_conf(8'000'000, 800'000, 16'000'000, 1'600'000);
}

class InContainer : public BandwidthTest {
protected:
    // A macvlan named eth0 in `ns` on a veth end in the test's (host) namespace, and the
    // prevResult a macvlan plugin would print for it.
    json attach_macvlan(const TestNetns& ns) {
        auto host = netlib::RouteSocket::open();
        netlib::VethSpec parent;
        parent.host_name = "mvparent";
        parent.peer_name = "mvpeer";
        if (!netlib::find_link(host, parent.host_name)) {
            (void)netlib::create_veth(host, parent);
        }
        netlib::MacvlanSpec spec;
        spec.name = "eth0";
        spec.master = netlib::find_link(host, parent.host_name)->index;
        spec.netns = &ns.ns;
        spec.mtu = 1400;
        spec.up = true;
        auto link = netlib::create_macvlan(host, spec);
        return {{"cniVersion", "1.0.0"},
                {"interfaces",
                 {{{"name", "eth0"}, {"mac", link.mac.to_string()}, {"sandbox", ns.path}}}},
                {"ips", json::array()}};
    }
};

TEST_F(InContainer, MacvlanIsShapedInsideTheContainer) {
    auto c1 = make_netns("c1");
    json prev = attach_macvlan(c1);
    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;

    // Container egress: tbf on eth0 itself (16 Mbit/s).
    auto qdiscs = tc_qdiscs(c1.name, "eth0");
    json tbf = qdisc_of_kind(qdiscs, "tbf");
    ASSERT_FALSE(tbf.is_null()) << qdiscs;
    EXPECT_EQ(tbf["options"]["rate"], 2'000'000);
    EXPECT_EQ(tbf["options"]["burst"], 200'000);
    EXPECT_FALSE(qdisc_of_kind(qdiscs, "ingress").is_null());

    // Container ingress: redirected to an ifb in the container, shaped to 8 Mbit/s there.
    auto ifbs = ifb_links(c1.name);
    ASSERT_EQ(ifbs.size(), 1u);
    std::string ifb = ifbs[0]["ifname"];
    EXPECT_EQ(ifbs[0]["mtu"], 1400);
    EXPECT_EQ(mirred_targets(tc_ingress_filters(c1.name, "eth0")), std::vector<std::string>{ifb});
    json ifb_tbf = qdisc_of_kind(tc_qdiscs(c1.name, ifb), "tbf");
    ASSERT_FALSE(ifb_tbf.is_null());
    EXPECT_EQ(ifb_tbf["options"]["rate"], 1'000'000);

    // Nothing on the host.
    EXPECT_TRUE(ifb_links("").empty());
    EXPECT_TRUE(qdisc_of_kind(tc_qdiscs("", "mvparent"), "tbf").is_null());

    // The ifb is reported as a container interface.
    ASSERT_EQ(r.out["interfaces"].size(), 2u);
    EXPECT_EQ(r.out["interfaces"][1]["name"], ifb);
    EXPECT_EQ(r.out["interfaces"][1]["sandbox"], c1.path);
}

TEST_F(InContainer, CheckAndDel) {
    auto c1 = make_netns("c1");
    json prev = attach_macvlan(c1);
    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    EXPECT_EQ(bandwidth("CHECK", c1, limits_conf(), r.out).r.exit_code, 0);

    observe("tc -n " + c1.name + " qdisc change dev eth0 root tbf rate 9mbit burst 200000 " +
            "latency 25ms");
    auto bad = bandwidth("CHECK", c1, limits_conf(), r.out);
    EXPECT_EQ(bad.code(), 999) << bad.r.out;
    EXPECT_NE(bad.out.value("msg", "").find("eth0"), std::string::npos) << bad.out;

    auto d1 = bandwidth("DEL", c1, limits_conf(), r.out);
    EXPECT_EQ(d1.r.exit_code, 0) << d1.r.out << d1.r.err;
    EXPECT_TRUE(ifb_links(c1.name).empty());
    auto qdiscs = tc_qdiscs(c1.name, "eth0");
    EXPECT_TRUE(qdisc_of_kind(qdiscs, "tbf").is_null()) << qdiscs;
    EXPECT_TRUE(qdisc_of_kind(qdiscs, "ingress").is_null()) << qdiscs;
    EXPECT_EQ(bandwidth("DEL", c1, limits_conf(), r.out).r.exit_code, 0);
}

TEST_F(InContainer, RollbackRemovesTheContainerSideState) {
    auto c1 = make_netns("c1");
    json prev = attach_macvlan(c1);
    // The ifb's name is taken inside the container: the egress tbf already added goes again.
    auto probe = bandwidth("ADD", c1, limits_conf(), prev);
    ASSERT_EQ(probe.r.exit_code, 0) << probe.r.out;
    std::string ifb = probe.out["interfaces"][1]["name"];
    ASSERT_EQ(bandwidth("DEL", c1, limits_conf(), probe.out).r.exit_code, 0);
    observe("ip -n " + c1.name + " link add " + ifb + " type ifb");

    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    EXPECT_EQ(r.code(), 999) << r.r.out;
    auto qdiscs = tc_qdiscs(c1.name, "eth0");
    EXPECT_TRUE(qdisc_of_kind(qdiscs, "tbf").is_null()) << qdiscs;
    EXPECT_TRUE(qdisc_of_kind(qdiscs, "ingress").is_null()) << qdiscs;
    EXPECT_FALSE(link_of(c1.name, ifb).is_null());
}

TEST_F(InContainer, DelAfterTheNetnsIsGone) {
    auto c1 = make_netns("c1");
    json prev = attach_macvlan(c1);
    auto r = bandwidth("ADD", c1, limits_conf(), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out;
    { netlib::Netns drop = std::move(c1.ns); }
    ASSERT_TRUE(netlib::remove_named_netns(c1.name));
    auto d = bandwidth("DEL", c1, limits_conf(), r.out);
    EXPECT_EQ(d.r.exit_code, 0) << d.r.out << d.r.err;
}

}  // namespace
}  // namespace sdnet::test
