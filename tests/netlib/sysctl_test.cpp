#include "netlib/sysctl.hpp"

#include <stdexcept>

#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "tests/support/netns_fixture.hpp"

namespace {

class Sysctl : public sdnet::test::NetnsTest {};

TEST_F(Sysctl, WriteReadInASecondNetnsViaGuard) {
    auto ctr = make_netns("sys");
    ASSERT_EQ(netlib::read_sysctl("net/ipv4/ip_forward"), "0");
    {
        netlib::NetnsGuard in{ctr.ns};
        netlib::write_sysctl("net.ipv4.ip_forward", "1");
        EXPECT_EQ(netlib::read_sysctl("net/ipv4/ip_forward"), "1");
    }
    EXPECT_EQ(netlib::read_sysctl("net.ipv4.ip_forward"), "0");  // ours untouched
    netlib::NetnsGuard again{ctr.ns};
    EXPECT_EQ(netlib::read_sysctl("net.ipv4.ip_forward"), "1");
}

TEST_F(Sysctl, PerInterfaceKeyWithDottedName) {
    netlib::RouteSocket sock = netlib::RouteSocket::open();
    netlib::VethSpec spec;
    spec.host_name = "eth0.100";
    spec.peer_name = "p100";
    (void)netlib::create_veth(sock, spec);
    netlib::write_sysctl("net.ipv4.conf.eth0.100.arp_notify", "1");
    EXPECT_EQ(netlib::read_sysctl("net/ipv4/conf/eth0.100/arp_notify"), "1");
    netlib::write_sysctl("net/ipv4/conf/eth0.100/arp_notify", "0");
    EXPECT_EQ(netlib::read_sysctl("net.ipv4.conf.eth0.100.arp_notify"), "0");
}

TEST_F(Sysctl, MissingKeys) {
    EXPECT_FALSE(netlib::try_read_sysctl("net.ipv4.conf.nosuchdev.arp_notify"));
    try {
        (void)netlib::read_sysctl("net.ipv4.conf.nosuchdev.arp_notify");
        FAIL();
    } catch (const netlib::Error& e) {
        EXPECT_EQ(e.code(), ENOENT);
        EXPECT_NE(std::string{e.what()}.find("nosuchdev"), std::string::npos);
    }
    try {
        netlib::write_sysctl("net.ipv4.conf.nosuchdev.arp_notify", "1");
        FAIL();
    } catch (const netlib::Error& e) {
        EXPECT_EQ(e.code(), ENOENT);
        EXPECT_NE(std::string{e.what()}.find("nosuchdev"), std::string::npos);
    }
}

TEST_F(Sysctl, BadValueAndForbiddenKeys) {
    try {
        netlib::write_sysctl("net.ipv4.ip_forward", "not-a-number");
        FAIL();
    } catch (const netlib::Error& e) {
        EXPECT_EQ(e.code(), EINVAL);
        EXPECT_EQ(std::string{e.what()}.rfind("write sysctl net.ipv4.ip_forward: ", 0), 0U);
    }
    EXPECT_THROW(netlib::write_sysctl("kernel.hostname", "x"), std::invalid_argument);
    EXPECT_THROW((void)netlib::read_sysctl("net/../kernel/hostname"), std::invalid_argument);
}

}  // namespace
