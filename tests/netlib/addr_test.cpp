#include "netlib/addr.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/route.hpp"
#include "netlib/route_socket.hpp"
#include "tests/support/netns_fixture.hpp"

namespace {

using netlib::Family;
using netlib::IpNet;
using netlib::RouteSocket;

class Addr : public sdnet::test::NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        sock_.emplace(RouteSocket::open());
        netlib::VethSpec spec;
        spec.host_name = "a0";
        spec.peer_name = "a1";
        a0_ = netlib::create_veth(*sock_, spec).index;
        a1_ = netlib::find_link(*sock_, "a1")->index;
    }

    RouteSocket& sock() { return *sock_; }

    bool has(const std::vector<IpNet>& v, const char* text) {
        return std::find(v.begin(), v.end(), IpNet::parse(text)) != v.end();
    }

    std::optional<RouteSocket> sock_;
    int a0_ = 0;
    int a1_ = 0;
};

TEST_F(Addr, AddListRemoveBothFamilies) {
    netlib::add_address(sock(), a0_, IpNet::parse("10.1.0.5/24"));
    netlib::add_address(sock(), a0_, IpNet::parse("fd00:1::5/64"), {.nodad = true});
    netlib::add_address(sock(), a1_, IpNet::parse("10.1.0.6/24"));

    auto all = netlib::list_addresses(sock(), a0_);
    EXPECT_TRUE(has(all, "10.1.0.5/24"));
    EXPECT_TRUE(has(all, "fd00:1::5/64"));
    EXPECT_FALSE(has(all, "10.1.0.6/24"));  // filtered by link

    auto v4 = netlib::list_addresses(sock(), a0_, Family::V4);
    ASSERT_EQ(v4.size(), 1U);
    EXPECT_EQ(v4[0].to_string(), "10.1.0.5/24");
    auto v6 = netlib::list_addresses(sock(), a0_, Family::V6);
    EXPECT_TRUE(has(v6, "fd00:1::5/64"));
    EXPECT_TRUE(
        std::all_of(v6.begin(), v6.end(), [](const IpNet& n) { return !n.addr().is_v4(); }));

    EXPECT_TRUE(netlib::remove_address(sock(), a0_, IpNet::parse("10.1.0.5/24")));
    EXPECT_FALSE(netlib::remove_address(sock(), a0_, IpNet::parse("10.1.0.5/24")));
    EXPECT_TRUE(netlib::remove_address(sock(), a0_, IpNet::parse("fd00:1::5/64")));
    EXPECT_FALSE(netlib::remove_address(sock(), a0_, IpNet::parse("fd00:1::5/64")));
    EXPECT_TRUE(netlib::list_addresses(sock(), a0_, Family::V4).empty());
}

TEST_F(Addr, DuplicateIsEexistNamingAddressAndLink) {
    for (const char* text : {"10.2.0.1/24", "fd00:2::1/64"}) {
        netlib::add_address(sock(), a0_, IpNet::parse(text), {.nodad = true});
        try {
            netlib::add_address(sock(), a0_, IpNet::parse(text), {.nodad = true});
            FAIL() << "expected EEXIST for " << text;
        } catch (const netlib::Error& e) {
            std::string msg = e.what();
            EXPECT_EQ(e.code(), EEXIST);
            EXPECT_EQ(msg.rfind(std::string{"RTM_NEWADDR "} + text + " dev #" +
                                    std::to_string(a0_) + ": File exists",
                                0),
                      0U)
                << msg;
        }
    }
}

TEST_F(Addr, NoprefixrouteSkipsThePrefixRoute) {
    netlib::add_address(sock(), a0_, IpNet::parse("10.3.0.1/24"), {.noprefixroute = true});
    netlib::add_address(sock(), a0_, IpNet::parse("10.4.0.1/24"));
    auto routes = netlib::list_routes(sock(), Family::V4);
    auto has_route = [&](const char* dst) {
        return std::any_of(routes.begin(), routes.end(),
                           [&](const netlib::RouteSpec& r) { return r.dst == IpNet::parse(dst); });
    };
    EXPECT_FALSE(has_route("10.3.0.0/24"));
    EXPECT_TRUE(has_route("10.4.0.0/24"));
}

TEST_F(Addr, ErrorsOnMissingLink) {
    try {
        netlib::add_address(sock(), 4242, IpNet::parse("10.5.0.1/24"));
        FAIL();
    } catch (const netlib::Error& e) {
        EXPECT_EQ(e.code(), ENODEV);
        EXPECT_NE(std::string{e.what()}.find("10.5.0.1/24 dev #4242"), std::string::npos);
    }
    EXPECT_THROW((void)netlib::list_addresses(sock(), 4242), netlib::Error);
}

// Independent observer: iproute2 agrees on the address, its broadcast and the NODAD flag.
TEST_F(Addr, CrossCheckWithIproute2) {
    netlib::add_address(sock(), a0_, IpNet::parse("10.6.0.7/24"));
    netlib::add_address(sock(), a0_, IpNet::parse("fd00:6::7/64"), {.nodad = true});
    std::unique_ptr<FILE, int (*)(FILE*)> p{::popen("ip -j addr show dev a0 2>&1", "r"), ::pclose};
    ASSERT_TRUE(p);
    std::string out;
    std::array<char, 4096> buf{};
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p.get())) {
        out.append(buf.data(), n);
    }
    if (out.find("not found") != std::string::npos) {
        GTEST_SKIP() << "ip not installed";
    }
    EXPECT_NE(out.find(R"("local":"10.6.0.7","prefixlen":24,"broadcast":"10.6.0.255")"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find(R"("local":"fd00:6::7","prefixlen":64)"), std::string::npos) << out;
    EXPECT_NE(out.find(R"("nodad":true)"), std::string::npos) << out;
}

}  // namespace
