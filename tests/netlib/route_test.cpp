#include "netlib/route.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <linux/rtnetlink.h>

#include "netlib/addr.hpp"
#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"
#include "tests/support/netns_fixture.hpp"

namespace {

using netlib::Family;
using netlib::IpAddr;
using netlib::IpNet;
using netlib::RouteSocket;
using netlib::RouteSpec;

class Route : public sdnet::test::NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        sock_.emplace(RouteSocket::open());
        netlib::VethSpec spec;
        spec.host_name = "r0";
        spec.peer_name = "r1";
        dev_ = netlib::create_veth(*sock_, spec).index;
        netlib::add_address(*sock_, dev_, IpNet::parse("10.1.0.2/24"));
        netlib::add_address(*sock_, dev_, IpNet::parse("fd00:1::2/64"), {.nodad = true});
    }

    RouteSocket& sock() { return *sock_; }

    RouteSpec via(const char* dst, const char* gw) {
        RouteSpec r;
        r.dst = IpNet::parse(dst);
        r.gw = IpAddr::parse(gw);
        r.ifindex = dev_;
        return r;
    }

    std::optional<RouteSpec> find(const char* dst, std::optional<int> table = std::nullopt) {
        IpNet want = IpNet::parse(dst);
        for (auto& r : netlib::list_routes(sock(), want.family(), table)) {
            if (r.dst == want) {
                return r;
            }
        }
        return std::nullopt;
    }

    std::optional<RouteSocket> sock_;
    int dev_ = 0;
};

TEST_F(Route, DefaultRouteViaGateway) {
    netlib::add_route(sock(), via("0.0.0.0/0", "10.1.0.1"));
    auto r = find("0.0.0.0/0");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->gw, IpAddr::parse("10.1.0.1"));
    EXPECT_EQ(r->ifindex, dev_);
    EXPECT_EQ(r->table, RT_TABLE_MAIN);
    EXPECT_EQ(r->scope, RT_SCOPE_UNIVERSE);
    EXPECT_FALSE(r->metric);  // IPv4 routes without a metric carry none

    netlib::add_route(sock(), via("::/0", "fd00:1::1"));
    auto r6 = find("::/0");
    ASSERT_TRUE(r6);
    EXPECT_EQ(r6->gw, IpAddr::parse("fd00:1::1"));
    EXPECT_EQ(r6->metric, 1024);  // the kernel's IPv6 default
}

TEST_F(Route, ListsBothFamiliesOfTheMainTable) {
    auto routes = netlib::list_routes(sock());
    auto has = [&](const char* dst) {
        return std::any_of(routes.begin(), routes.end(),
                           [&](const RouteSpec& r) { return r.dst == IpNet::parse(dst); });
    };
    EXPECT_TRUE(has("10.1.0.0/24"));  // prefix routes of the fixture's addresses
    EXPECT_TRUE(has("fd00:1::/64"));
    EXPECT_FALSE(has("10.1.0.2/32"));  // local routes live in table 255
    EXPECT_TRUE(std::all_of(routes.begin(), routes.end(),
                            [](const RouteSpec& r) { return r.table == RT_TABLE_MAIN; }));
    // The local table holds only local/broadcast routes, which are not unicast.
    EXPECT_TRUE(netlib::list_routes(sock(), Family::V4, RT_TABLE_LOCAL).empty());
}

TEST_F(Route, DuplicateAddIsEexistNamingTheRoute) {
    netlib::add_route(sock(), via("0.0.0.0/0", "10.1.0.1"));
    try {
        netlib::add_route(sock(), via("0.0.0.0/0", "10.1.0.1"));
        FAIL();
    } catch (const netlib::Error& e) {
        EXPECT_EQ(e.code(), EEXIST);
        std::string want =
            "RTM_NEWROUTE 0.0.0.0/0 via 10.1.0.1 dev #" + std::to_string(dev_) + ": File exists";
        EXPECT_EQ(std::string{e.what()}.rfind(want, 0), 0U) << e.what();
    }
}

TEST_F(Route, ReplaceOverwrites) {
    netlib::add_route(sock(), via("10.2.0.0/24", "10.1.0.1"));
    netlib::replace_route(sock(), via("10.2.0.0/24", "10.1.0.3"));
    auto routes = netlib::list_routes(sock(), Family::V4);
    auto n = std::count_if(routes.begin(), routes.end(),
                           [](const RouteSpec& r) { return r.dst == IpNet::parse("10.2.0.0/24"); });
    EXPECT_EQ(n, 1);
    EXPECT_EQ(find("10.2.0.0/24")->gw, IpAddr::parse("10.1.0.3"));
    netlib::replace_route(sock(), via("10.7.0.0/24", "10.1.0.1"));  // creates when absent
    EXPECT_TRUE(find("10.7.0.0/24"));
}

TEST_F(Route, AppendAddsARouteNextToTheExistingOne) {
    netlib::add_route(sock(), via("0.0.0.0/0", "10.1.0.1"));
    netlib::append_route(sock(), via("0.0.0.0/0", "10.1.0.3"));
    auto routes = netlib::list_routes(sock(), Family::V4);
    std::vector<IpAddr> gws;
    for (const auto& r : routes) {
        if (r.dst == IpNet::parse("0.0.0.0/0")) {
            gws.push_back(*r.gw);
        }
    }
    EXPECT_EQ(gws, (std::vector<IpAddr>{IpAddr::parse("10.1.0.1"), IpAddr::parse("10.1.0.3")}));
    try {
        netlib::append_route(sock(), via("0.0.0.0/0", "10.1.0.3"));
        FAIL() << "an identical route was appended";
    } catch (const netlib::Error& e) {
        EXPECT_EQ(e.code(), EEXIST);
    }
    // IPv6: the second gateway joins the first in one multipath route.
    netlib::add_route(sock(), via("::/0", "fd00:1::1"));
    EXPECT_NO_THROW(netlib::append_route(sock(), via("::/0", "fd00:1::3")));
}

TEST_F(Route, LinkScopeWithoutGateway) {
    RouteSpec r;
    r.dst = IpNet::parse("10.3.0.0/24");
    r.ifindex = dev_;
    netlib::add_route(sock(), r);
    auto got = find("10.3.0.0/24");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->scope, RT_SCOPE_LINK);
    EXPECT_FALSE(got->gw);

    r.dst = IpNet::parse("10.3.1.0/24");
    r.scope = RT_SCOPE_UNIVERSE;
    netlib::add_route(sock(), r);
    EXPECT_EQ(find("10.3.1.0/24")->scope, RT_SCOPE_UNIVERSE);
}

TEST_F(Route, TablesAndMetrics) {
    RouteSpec r = via("10.4.0.0/24", "10.1.0.1");
    r.table = 100;
    netlib::add_route(sock(), r);
    r.table = 1000;  // beyond rtm_table's 8 bits: RTA_TABLE only
    r.metric = 50;
    netlib::add_route(sock(), r);
    EXPECT_FALSE(find("10.4.0.0/24"));
    EXPECT_EQ(find("10.4.0.0/24", 100)->table, 100);
    auto big = find("10.4.0.0/24", 1000);
    ASSERT_TRUE(big);
    EXPECT_EQ(big->table, 1000);
    EXPECT_EQ(big->metric, 50);
    EXPECT_TRUE(netlib::list_routes(sock(), Family::V4, 4242).empty());  // no such table

    RouteSpec m = via("10.5.0.0/24", "10.1.0.1");
    m.metric = 10;
    netlib::add_route(sock(), m);
    m.metric = 20;
    m.gw = IpAddr::parse("10.1.0.3");
    netlib::add_route(sock(), m);  // same prefix, other metric: a second route
    auto routes = netlib::list_routes(sock(), Family::V4);
    EXPECT_EQ(
        std::count_if(routes.begin(), routes.end(),
                      [](const RouteSpec& x) { return x.dst == IpNet::parse("10.5.0.0/24"); }),
        2);
}

TEST_F(Route, MtuAdvmssRoundTrip) {
    RouteSpec r = via("10.6.0.0/24", "10.1.0.1");
    r.mtu = 1400;
    r.advmss = 1360;
    netlib::add_route(sock(), r);
    auto got = find("10.6.0.0/24");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->mtu, 1400U);
    EXPECT_EQ(got->advmss, 1360U);
}

TEST_F(Route, OnlinkGatewayOutsideTheSubnet) {
    RouteSpec r = via("0.0.0.0/0", "192.168.77.1");
    try {
        netlib::add_route(sock(), r);
        FAIL() << "gateway outside every subnet needs onlink";
    } catch (const netlib::Error& e) {
        EXPECT_EQ(e.code(), ENETUNREACH) << e.what();
        EXPECT_NE(std::string{e.what()}.find("via 192.168.77.1"), std::string::npos);
    }
    r.onlink = true;
    netlib::add_route(sock(), r);
    auto got = find("0.0.0.0/0");
    ASSERT_TRUE(got);
    EXPECT_TRUE(got->onlink);
}

TEST_F(Route, RemoveTwice) {
    netlib::add_route(sock(), via("10.8.0.0/24", "10.1.0.1"));
    netlib::add_route(sock(), via("fd00:8::/64", "fd00:1::1"));
    EXPECT_TRUE(netlib::remove_route(sock(), via("10.8.0.0/24", "10.1.0.1")));
    EXPECT_FALSE(netlib::remove_route(sock(), via("10.8.0.0/24", "10.1.0.1")));
    EXPECT_TRUE(netlib::remove_route(sock(), via("fd00:8::/64", "fd00:1::1")));
    EXPECT_FALSE(netlib::remove_route(sock(), via("fd00:8::/64", "fd00:1::1")));
    EXPECT_FALSE(find("10.8.0.0/24"));
    // A kernel-made prefix route (proto kernel) is removable by destination alone.
    RouteSpec prefix;
    prefix.dst = IpNet::parse("10.1.0.0/24");
    EXPECT_TRUE(netlib::remove_route(sock(), prefix));
}

}  // namespace
