// Masquerade proven with packets. Inside the test's private "host" namespace:
//
//   container ns           host ns (this process)            outside ns
//   c0 10.77.0.2/24  <-->  h0 10.77.0.1/24   h1 192.0.2.1/24  <-->  o0 192.0.2.2/24
//      fd00:77::2/64          fd00:77::1/64      2001:db8::1/64          2001:db8::2/64
//                           h2 10.77.1.1/24  <-->  peer ns p0 10.77.1.2/24
//
// The attachment claims 10.77.0.2/16, so the peer (10.77.1.2) is inside its subnet: traffic to
// it must keep the container's address, traffic to the outside must leave as the host's.
// Every address lives in namespaces that die with the test process.

#include <gtest/gtest.h>

#include "netlib/nft_masq.hpp"
#include "tests/nft/nft_test_util.hpp"

namespace {

using namespace netlib;
using nfttest::must_run;
using nfttest::udp_source_seen;

class NftMasqTrafficTest : public nfttest::NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        container_ = nfttest::make_netns();
        outside_ = nfttest::make_netns();
        peer_ = nfttest::make_netns();
        // No duplicate address detection: link-local addresses would stay tentative for ~1 s
        // and stall the first IPv6 neighbour discovery.
        nfttest::write_sysctl("net/ipv6/conf/default/accept_dad", "0");
        for (const Fd* ns : {&container_, &outside_, &peer_}) {
            nfttest::InNetns in(*ns);
            nfttest::write_sysctl("net/ipv6/conf/default/accept_dad", "0");
        }
        ASSERT_NO_FATAL_FAILURE(link("h0", container_, "c0", "10.77.0.1/24", "10.77.0.2/24",
                                     "fd00:77::1/64", "fd00:77::2/64"));
        ASSERT_NO_FATAL_FAILURE(link("h1", outside_, "o0", "192.0.2.1/24", "192.0.2.2/24",
                                     "2001:db8::1/64", "2001:db8::2/64"));
        ASSERT_NO_FATAL_FAILURE(link("h2", peer_, "p0", "10.77.1.1/24", "10.77.1.2/24", "", ""));
        must_run({"ip", "route", "add", "default", "via", "10.77.0.1"}, &container_);
        must_run({"ip", "-6", "route", "add", "default", "via", "fd00:77::1"}, &container_);
        must_run({"ip", "route", "add", "default", "via", "192.0.2.1"}, &outside_);
        must_run({"ip", "route", "add", "default", "via", "10.77.1.1"}, &peer_);
        nfttest::write_sysctl("net/ipv4/ip_forward", "1");
        nfttest::write_sysctl("net/ipv6/conf/all/forwarding", "1");
    }

    // A veth pair: `host_if` here, `peer_if` in `ns`, both up with the given addresses.
    void link(const std::string& host_if, const Fd& ns, const std::string& peer_if,
              const std::string& host4, const std::string& peer4, const std::string& host6,
              const std::string& peer6) {
        must_run({"ip", "link", "add", host_if, "type", "veth", "peer", "name", peer_if, "netns",
                  nfttest::netns_path(ns)});
        must_run({"ip", "addr", "add", host4, "dev", host_if});
        must_run({"ip", "addr", "add", peer4, "dev", peer_if}, &ns);
        if (!host6.empty()) {
            must_run({"ip", "addr", "add", host6, "dev", host_if});
            must_run({"ip", "addr", "add", peer6, "dev", peer_if}, &ns);
        }
        must_run({"ip", "link", "set", host_if, "up"});
        must_run({"ip", "link", "set", peer_if, "up"}, &ns);
    }

    std::optional<IpAddr> seen_outside(const char* dst) {
        return udp_source_seen(container_, outside_, IpAddr::parse(dst));
    }

    Fd container_, outside_, peer_;
    MasqAttachment a_{
        "net1", "c1", "eth0", {IpNet::parse("10.77.0.2/16"), IpNet::parse("fd00:77::2/64")}};
};

TEST_F(NftMasqTrafficTest, WithoutMasqueradeTheContainerAddressLeaks) {
    EXPECT_EQ(seen_outside("192.0.2.2"), IpAddr::parse("10.77.0.2"));
    EXPECT_EQ(seen_outside("2001:db8::2"), IpAddr::parse("fd00:77::2"));
}

TEST_F(NftMasqTrafficTest, MasqueradesToTheOutsideOnly) {
    masq_add(a_);
    EXPECT_EQ(seen_outside("192.0.2.2"), IpAddr::parse("192.0.2.1"));
    EXPECT_EQ(seen_outside("2001:db8::2"), IpAddr::parse("2001:db8::1"));
    // 10.77.1.2 is inside 10.77.0.0/16, the attachment's subnet: not masqueraded.
    EXPECT_EQ(udp_source_seen(container_, peer_, IpAddr::parse("10.77.1.2")),
              IpAddr::parse("10.77.0.2"));
}

TEST_F(NftMasqTrafficTest, DelStopsMasquerading) {
    masq_add(a_);
    ASSERT_EQ(seen_outside("192.0.2.2"), IpAddr::parse("192.0.2.1"));
    masq_del(a_);
    // A new socket, so a new flow: conntrack keeps NAT decisions per flow.
    EXPECT_EQ(seen_outside("192.0.2.2"), IpAddr::parse("10.77.0.2"));
}

}  // namespace
