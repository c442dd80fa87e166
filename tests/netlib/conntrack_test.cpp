#include "netlib/conntrack.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlib/fd.hpp"
#include "netlib/ip.hpp"
#include "netlib/nft_masq.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/skip.hpp"

namespace {

constexpr std::uint8_t kUdp = IPPROTO_UDP;

class Conntrack : public sdnet::test::NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        // The tests observe entries in /proc/net/nf_conntrack, made tracked by an nftables NAT
        // chain.
        SDNET_REQUIRE_KERNEL(sdnet::test::KernelFeature::Nftables);
        SDNET_REQUIRE_KERNEL(sdnet::test::KernelFeature::ConntrackProcfs);
        // Conntrack only tracks a namespace that has a ruleset needing it: a NAT chain.
        netlib::masq_add({"ct", "c1", "eth0", {netlib::IpNet::parse("10.9.0.2/24")}});
    }

    static sockaddr_in loopback(std::uint16_t port) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return a;
    }

    static sockaddr_in6 loopback6(std::uint16_t port) {
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(port);
        a.sin6_addr = in6addr_loopback;
        return a;
    }

    // One datagram from 127.0.0.1 to a closed local port: it leaves an unreplied entry.
    static void send_udp(std::uint16_t port) {
        auto dst = loopback(port);
        send_to(AF_INET, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
    }

    // The same from ::1.
    static void send_udp6(std::uint16_t port) {
        auto dst = loopback6(port);
        send_to(AF_INET6, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
    }

    static void send_to(int family, const sockaddr* dst, socklen_t len) {
        netlib::Fd fd{::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
        ASSERT_TRUE(fd.valid());
        ASSERT_EQ(::sendto(fd.get(), "x", 1, 0, dst, len), 1);
    }

    // An established TCP connection to `port` on 127.0.0.1, kept open by the fixture.
    void connect_tcp(std::uint16_t port) {
        netlib::Fd server{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
        netlib::Fd client{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
        ASSERT_TRUE(server.valid() && client.valid());
        auto a = loopback(port);
        auto* sa = reinterpret_cast<sockaddr*>(&a);
        ASSERT_EQ(::bind(server.get(), sa, sizeof a), 0);
        ASSERT_EQ(::listen(server.get(), 1), 0);
        ASSERT_EQ(::connect(client.get(), sa, sizeof a), 0);
        open_.push_back(std::move(server));
        open_.push_back(std::move(client));
    }

    std::vector<netlib::Fd> open_;

    // Whether the table holds an entry of `proto` ("udp", "tcp") to `port`, of `family`
    // ("ipv4", "ipv6").
    static bool tracked(const std::string& proto, std::uint16_t port,
                        const std::string& family_name = "ipv4") {
        std::ifstream in{"/proc/net/nf_conntrack"};
        std::string line;
        std::string dport = "dport=" + std::to_string(port) + " ";
        while (std::getline(in, line)) {
            std::istringstream words{line};
            std::string family, family_num, name;
            words >> family >> family_num >> name;
            if (family == family_name && name == proto && line.find(dport) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
};

TEST_F(Conntrack, DeletesOnlyTheProtocolAndPortsAsked) {
    send_udp(30000);
    send_udp(30001);
    send_udp(30002);
    connect_tcp(30000);
    ASSERT_TRUE(tracked("udp", 30000));
    ASSERT_TRUE(tracked("udp", 30001));
    ASSERT_TRUE(tracked("tcp", 30000));

    netlib::conntrack_delete_by_dport(netlib::Family::V4, kUdp, {30000, 30002});
    EXPECT_FALSE(tracked("udp", 30000));
    EXPECT_FALSE(tracked("udp", 30002));
    EXPECT_TRUE(tracked("udp", 30001)) << "an entry to another port was deleted";
    EXPECT_TRUE(tracked("tcp", 30000)) << "an entry of another protocol was deleted";

    // Nothing is left to delete twice.
    netlib::conntrack_delete_by_dport(netlib::Family::V4, kUdp, {30000});
}

TEST_F(Conntrack, Ipv6EntriesAreDeletedByTheIpv6FamilyOnly) {
    send_udp(30001);
    send_udp6(30001);
    send_udp6(30002);
    ASSERT_TRUE(tracked("udp", 30001, "ipv4"));
    ASSERT_TRUE(tracked("udp", 30001, "ipv6"));
    ASSERT_TRUE(tracked("udp", 30002, "ipv6"));

    netlib::conntrack_delete_by_dport(netlib::Family::V6, kUdp, {30001});
    EXPECT_FALSE(tracked("udp", 30001, "ipv6"));
    EXPECT_TRUE(tracked("udp", 30002, "ipv6")) << "an entry to another port was deleted";
    EXPECT_TRUE(tracked("udp", 30001, "ipv4")) << "an IPv6 delete took an IPv4 entry";

    netlib::conntrack_delete_by_dport(netlib::Family::V4, kUdp, {30001, 30002});
    EXPECT_FALSE(tracked("udp", 30001, "ipv4"));
    EXPECT_TRUE(tracked("udp", 30002, "ipv6")) << "an IPv4 delete took an IPv6 entry";
}

TEST_F(Conntrack, NoPortsNoRequest) {
    send_udp(30000);
    netlib::conntrack_delete_by_dport(netlib::Family::V4, kUdp, {});
    EXPECT_TRUE(tracked("udp", 30000));
}

}  // namespace
