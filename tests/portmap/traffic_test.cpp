// Published ports as a user reaches them: from the host (a host address and 127.0.0.1), from
// another container, from the container itself, from outside through the host, and not for
// traffic the host only routes. TCP and UDP, IPv4 and IPv6, in private namespaces.
#include <gtest/gtest.h>

#include "netlib/addr.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route.hpp"
#include "netlib/route_socket.hpp"
#include "tests/portmap/portmap_harness.hpp"

namespace sdnet::test {
namespace {

constexpr const char* kGateway = "10.88.10.1";
constexpr const char* kGateway6 = "fd88:10::1";
constexpr const char* kC1 = "10.88.10.2";
constexpr const char* kC2 = "10.88.10.3";

class Traffic : public TwoContainerTest {
protected:
    // A third namespace "outside", routed through the host: 192.168.77.2/24 and fd77::2/64 on a
    // veth whose host end has 192.168.77.1/24 and fd77::1/64.
    TestNetns add_outside_client() {
        auto out = make_netns("out");
        auto host = netlib::RouteSocket::open();
        auto peer = netlib::RouteSocket::open_in(out.ns);
        netlib::VethSpec spec;
        spec.host_name = "to-out";
        spec.peer_name = "eth0";
        spec.peer_netns = &out.ns;
        spec.peer_sock = &peer;
        auto link = netlib::create_veth(host, spec);
        auto inner = netlib::find_link(peer, "eth0");
        netlib::add_address(host, link.index, netlib::IpNet::parse("192.168.77.1/24"), {true});
        netlib::add_address(peer, inner->index, netlib::IpNet::parse("192.168.77.2/24"), {true});
        netlib::RouteSpec via_host;
        via_host.dst = netlib::IpNet::parse("0.0.0.0/0");
        via_host.gw = netlib::IpAddr::parse("192.168.77.1");
        via_host.ifindex = inner->index;
        netlib::add_route(peer, via_host);
        netlib::add_address(host, link.index, netlib::IpNet::parse("fd77::1/64"), {true});
        netlib::add_address(peer, inner->index, netlib::IpNet::parse("fd77::2/64"), {true});
        via_host.dst = netlib::IpNet::parse("::/0");
        via_host.gw = netlib::IpAddr::parse("fd77::1");
        netlib::add_route(peer, via_host);
        return out;
    }
};

TEST_F(Traffic, TcpAndUdpFromTheHostViaItsAddressAndLoopback) {
    publish(*c1_, r1_, json::array({mapping(8080, 80), mapping(5353, 53, "udp")}));
    auto web = serve(Proto::Tcp, &*c1_, "0.0.0.0", 80, "c1-web");
    auto dns = serve(Proto::Udp, &*c1_, "0.0.0.0", 53, "c1-dns");

    auto via_gw = exchange(nullptr, web, kGateway, 8080);
    EXPECT_TRUE(via_gw) << via_gw.error;
    auto via_lo = exchange(nullptr, web, "127.0.0.1", 8080);
    EXPECT_TRUE(via_lo) << via_lo.error;
    EXPECT_EQ(via_lo.peer, kGateway) << "127.0.0.1 must be masqueraded to the bridge address";
    auto udp_gw = exchange(nullptr, dns, kGateway, 5353);
    EXPECT_TRUE(udp_gw) << udp_gw.error;
    auto udp_lo = exchange(nullptr, dns, "127.0.0.1", 5353);
    EXPECT_TRUE(udp_lo) << udp_lo.error;
    EXPECT_EQ(observe("cat /proc/sys/net/ipv4/conf/sdnet0/route_localnet"), "1\n");

    // The container port itself is not published: only 8080 is translated.
    auto other = exchange(nullptr, web, kGateway, 8081);
    EXPECT_FALSE(other);
}

TEST_F(Traffic, FromANeighbourAndFromTheContainerItself) {
    publish(*c1_, r1_, json::array({mapping(8080, 80), mapping(5353, 53, "udp")}));
    auto web = serve(Proto::Tcp, &*c1_, "0.0.0.0", 80, "c1-web");
    auto dns = serve(Proto::Udp, &*c1_, "0.0.0.0", 53, "c1-dns");

    auto neighbour = exchange(&*c2_, web, kGateway, 8080);
    EXPECT_TRUE(neighbour) << neighbour.error;
    EXPECT_EQ(neighbour.peer, kGateway) << "hairpin traffic must be masqueraded";
    auto self = exchange(&*c1_, web, kGateway, 8080);
    EXPECT_TRUE(self) << self.error;
    auto udp_neighbour = exchange(&*c2_, dns, kGateway, 5353);
    EXPECT_TRUE(udp_neighbour) << udp_neighbour.error;
    auto udp_self = exchange(&*c1_, dns, kGateway, 5353);
    EXPECT_TRUE(udp_self) << udp_self.error;
}

TEST_F(Traffic, SnatFalseKeepsTheSourceAndDropsHairpin) {
    publish(*c1_, r1_, json::array({mapping(8080, 80)}), {{"snat", false}});
    auto web = serve(Proto::Tcp, &*c1_, "0.0.0.0", 80, "c1-web");
    auto out = add_outside_client();
    auto outside = exchange(&out, web, "192.168.77.1", 8080);
    EXPECT_TRUE(outside) << outside.error;
    EXPECT_EQ(outside.peer, "192.168.77.2");
    EXPECT_TRUE(elements("hairpin4").empty());
    // Hairpin traffic keeps its source: c1 sees c2's own address. (Whether c1's direct answer
    // finds its way back depends on br_netfilter sending bridged frames through conntrack; the
    // reference has the same limitation without snat.)
    auto neighbour = exchange(&*c2_, web, kGateway, 8080);
    if (neighbour) {
        EXPECT_EQ(neighbour.peer, kC2);
    }
}

TEST_F(Traffic, FromOutsideAndNeverForTransitTraffic) {
    auto out = add_outside_client();
    publish(*c1_, r1_, json::array({mapping(8080, 80), mapping(5353, 53, "udp")}));
    auto web = serve(Proto::Tcp, &*c1_, "0.0.0.0", 80, "c1-web");
    auto dns = serve(Proto::Udp, &*c1_, "0.0.0.0", 53, "c1-dns");
    auto c2_web = serve(Proto::Tcp, &*c2_, "0.0.0.0", 8080, "c2-8080");
    auto c2_dns = serve(Proto::Udp, &*c2_, "0.0.0.0", 5353, "c2-5353");

    // Addressed to the host: translated, the client's address kept.
    auto via_host = exchange(&out, web, "192.168.77.1", 8080);
    EXPECT_TRUE(via_host) << via_host.error;
    EXPECT_EQ(via_host.peer, "192.168.77.2");
    auto udp_via_host = exchange(&out, dns, "192.168.77.1", 5353);
    EXPECT_TRUE(udp_via_host) << udp_via_host.error;

    // Routed through the host to c2's own port 8080: not a local destination, so untouched.
    auto transit = exchange(&out, c2_web, kC2, 8080);
    EXPECT_TRUE(transit) << transit.error;
    EXPECT_FALSE(pending(web)) << "transit traffic was DNATed to c1";
    auto udp_transit = exchange(&out, c2_dns, kC2, 5353);
    EXPECT_TRUE(udp_transit) << udp_transit.error;
    EXPECT_FALSE(pending(dns)) << "transit UDP was DNATed to c1";
}

TEST_F(Traffic, SpecificHostAddressOnly) {
    auto out = add_outside_client();
    publish(*c1_, r1_, json::array({mapping(8080, 80, "tcp", "192.168.77.1")}));
    auto web = serve(Proto::Tcp, &*c1_, "0.0.0.0", 80, "c1-web");
    auto host_8080 = serve(Proto::Tcp, nullptr, "0.0.0.0", 8080, "host-8080");
    auto hit = exchange(&out, web, "192.168.77.1", 8080);
    EXPECT_TRUE(hit) << hit.error;
    // Another local address is not published: the host's own listener answers.
    auto miss = exchange(nullptr, host_8080, kGateway, 8080);
    EXPECT_TRUE(miss) << miss.error;
    EXPECT_FALSE(pending(web));
}

TEST_F(Traffic, PortRangeMapsPortByPort) {
    publish(
        *c1_, r1_,
        json::array({json{{"hostPort", 10000}, {"hostPortEnd", 10002}, {"containerPort", 20000}}}));
    EXPECT_EQ(elements("anyports4").size(), 3u);
    auto s1 = serve(Proto::Tcp, &*c1_, "0.0.0.0", 20001, "c1-20001");
    auto s2 = serve(Proto::Tcp, &*c1_, "0.0.0.0", 20002, "c1-20002");
    auto e1 = exchange(nullptr, s1, kGateway, 10001);
    EXPECT_TRUE(e1) << e1.error;
    auto e2 = exchange(nullptr, s2, kGateway, 10002);
    EXPECT_TRUE(e2) << e2.error;
}

TEST_F(Traffic, Ipv6FromTheHostANeighbourAndItself) {
    publish(*c1_, r1_, json::array({mapping(8080, 80), mapping(5353, 53, "udp")}));
    EXPECT_EQ(elements("anyports6").size(), 2u);
    auto web = serve(Proto::Tcp, &*c1_, "::", 80, "c1-web6");
    auto dns = serve(Proto::Udp, &*c1_, "::", 53, "c1-dns6");
    auto host = exchange(nullptr, web, kGateway6, 8080);
    EXPECT_TRUE(host) << host.error;
    auto neighbour = exchange(&*c2_, web, kGateway6, 8080);
    EXPECT_TRUE(neighbour) << neighbour.error;
    EXPECT_EQ(neighbour.peer, kGateway6);
    auto self = exchange(&*c1_, web, kGateway6, 8080);
    EXPECT_TRUE(self) << self.error;
    auto udp = exchange(&*c2_, dns, kGateway6, 5353);
    EXPECT_TRUE(udp) << udp.error;
}

TEST_F(Traffic, HostIpOfTheOtherFamilyIsSkipped) {
    publish(*c1_, r1_, json::array({mapping(8080, 80, "tcp", kGateway6)}));
    EXPECT_TRUE(elements("hostports4").empty());
    EXPECT_EQ(elements("hostports6").size(), 1u);
}

TEST_F(Traffic, StaleUdpFlowIsFlushedOnAdd) {
    auto out = add_outside_client();
    auto dns = serve(Proto::Udp, &*c1_, "0.0.0.0", 53, "c1-dns");
    // Before the port is published, a datagram to the host creates a conntrack entry for
    // 192.168.77.2:40000 -> 192.168.77.1:5353 (unanswered).
    auto early = exchange(&out, dns, "192.168.77.1", 5353, 40000);
    EXPECT_FALSE(early);
    publish(*c1_, r1_, json::array({mapping(5353, 53, "udp")}));
    // The same flow again: it only reaches the container if ADD deleted the stale entry.
    auto later = exchange(&out, dns, "192.168.77.1", 5353, 40000);
    EXPECT_TRUE(later) << later.error;
}

TEST_F(Traffic, StaleIpv6UdpFlowIsFlushedOnAdd) {
    auto out = add_outside_client();
    auto dns = serve(Proto::Udp, &*c1_, "::", 53, "c1-dns6");
    // [fd77::2]:40000 -> [fd77::1]:5353, unanswered, tracked before the port is published.
    auto early = exchange(&out, dns, "fd77::1", 5353, 40000);
    EXPECT_FALSE(early);
    publish(*c1_, r1_, json::array({mapping(5353, 53, "udp")}));
    auto later = exchange(&out, dns, "fd77::1", 5353, 40000);
    EXPECT_TRUE(later) << later.error;
}

TEST_F(Traffic, SctpFromOutsideAndFromTheHost) {
    auto out = add_outside_client();
    publish(*c1_, r1_, json::array({mapping(9000, 90, "sctp"), mapping(9001, 91, "tcp")}));
    EXPECT_EQ(sctp_init_arrives(&out, *c1_, "192.168.77.1", 9000), 90);
    EXPECT_EQ(sctp_init_arrives(nullptr, *c1_, kGateway, 9000), 90);
    // A TCP mapping does not carry SCTP.
    EXPECT_EQ(sctp_init_arrives(&out, *c1_, "192.168.77.1", 9001), std::nullopt);
}

TEST_F(Traffic, ConditionsLimitWhoIsTranslated) {
    auto out = add_outside_client();
    publish(*c1_, r1_, json::array({mapping(8080, 80)}),
            {{"conditionsV4", {"ip saddr 192.168.77.0/24", "iifname", "to-out"}}});
    auto web = serve(Proto::Tcp, &*c1_, "0.0.0.0", 80, "c1-web");
    auto allowed = exchange(&out, web, "192.168.77.1", 8080);
    EXPECT_TRUE(allowed) << allowed.error;
    // From a container the conditions do not hold: the host's own port 8080 (nothing listens)
    // refuses, the container sees nothing.
    auto refused = exchange(&*c2_, web, kGateway, 8080);
    EXPECT_FALSE(refused);
    EXPECT_FALSE(pending(web));
    auto chains = observe("nft list table inet sdnet_portmap");
    EXPECT_NE(chains.find("ip saddr 192.168.77.0/24 iifname \"to-out\" return"), std::string::npos)
        << chains;

    auto del = portmap("DEL", *c1_, portmap_conf(r1_, json::array({mapping(8080, 80)})));
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    chains = observe("nft list table inet sdnet_portmap");
    EXPECT_EQ(chains.find("chain guard4_"), std::string::npos) << "guard chain left behind";
}

}  // namespace
}  // namespace sdnet::test
