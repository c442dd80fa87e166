#include <chrono>
#include <latch>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <linux/if_bridge.h>

#include "netlib/addr.hpp"
#include "netlib/bridge_port_wait.hpp"
#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/netns_fixture.hpp"

namespace {

using netlib::BridgeSpec;
using netlib::LinkInfo;
using netlib::RouteSocket;

class Bridge : public sdnet::test::NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        sock_.emplace(RouteSocket::open());
    }

    RouteSocket& sock() { return *sock_; }

    // A bridge with one veth port whose peer is up, so the port gets carrier.
    std::pair<LinkInfo, LinkInfo> bridge_with_port() {
        LinkInfo br = netlib::ensure_bridge(sock(), BridgeSpec{"brp", std::nullopt, false, {}});
        netlib::VethSpec spec;
        spec.host_name = "port0";
        spec.peer_name = "port0p";
        spec.master = br.index;
        return {br, netlib::create_veth(sock(), spec)};
    }

    // A bridge port that is up but whose veth peer is down: no carrier, the port is disabled.
    std::pair<LinkInfo, LinkInfo> port_without_carrier() {
        LinkInfo br = netlib::ensure_bridge(sock(), BridgeSpec{"brw", std::nullopt, false, {}});
        netlib::VethSpec spec;
        spec.host_name = "port0";
        spec.peer_name = "port0p";
        spec.master = br.index;
        spec.up = false;
        LinkInfo port = netlib::create_veth(sock(), spec);
        netlib::set_up(sock(), port.index, true);
        // A port without carrier is disabled once the link watch has run: until then its
        // operstate is still "unknown", which Linux 6.1 counts as up, so the port forwards.
        EXPECT_TRUE(sdnet::test::eventually([&] {
            return netlib::bridge_port_state(sock(), port.index) ==
                   std::optional<std::uint8_t>{BR_STATE_DISABLED};
        }));
        return {br, port};
    }

    std::optional<RouteSocket> sock_;
};

TEST_F(Bridge, EnsureTwiceReturnsTheSameBridge) {
    netlib::MacAddr mac = netlib::MacAddr::parse("02:00:00:00:0b:01");
    BridgeSpec spec{"br0", 1400, false, mac};
    LinkInfo first = netlib::ensure_bridge(sock(), spec);
    EXPECT_EQ(first.kind, "bridge");
    EXPECT_TRUE(first.up);
    EXPECT_EQ(first.mtu, 1400U);
    EXPECT_EQ(first.mac, mac);
    LinkInfo second = netlib::ensure_bridge(sock(), spec);
    EXPECT_EQ(second.index, first.index);
    EXPECT_TRUE(second.up);
}

TEST_F(Bridge, EnsureAdoptsADownBridgeAndSetsPromisc) {
    LinkInfo br = netlib::ensure_bridge(sock(), BridgeSpec{"br1", std::nullopt, false, {}});
    EXPECT_FALSE(br.promisc);
    netlib::set_up(sock(), br.index, false);
    LinkInfo again = netlib::ensure_bridge(sock(), BridgeSpec{"br1", std::nullopt, true, {}});
    EXPECT_EQ(again.index, br.index);
    EXPECT_TRUE(again.up);
    EXPECT_TRUE(again.promisc);
    EXPECT_TRUE(netlib::find_link(sock(), "br1")->promisc);
    EXPECT_TRUE(netlib::find_link(sock(), "br1")->up);
}

TEST_F(Bridge, ConcurrentEnsureFromThreadsAllSucceed) {
    constexpr int kThreads = 4;
    std::latch start{kThreads};
    std::vector<int> index(kThreads, -1);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            RouteSocket own = RouteSocket::open();  // one socket per thread
            start.arrive_and_wait();
            try {
                index[i] = netlib::ensure_bridge(own, BridgeSpec{"brc", {}, false, {}}).index;
            } catch (const std::exception&) {
                index[i] = 0;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (int i = 0; i < kThreads; ++i) {
        EXPECT_GT(index[i], 0) << "thread " << i;
        EXPECT_EQ(index[i], index[0]);
    }
}

TEST_F(Bridge, ConcurrentEnsureFromProcessesAllSucceed) {
    constexpr int kProcs = 4;
    std::vector<pid_t> pids;
    for (int i = 0; i < kProcs; ++i) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            int rc = 1;
            try {
                RouteSocket own = RouteSocket::open();
                rc = netlib::ensure_bridge(own, BridgeSpec{"brp2", {}, false, {}}).kind == "bridge"
                         ? 0
                         : 2;
            } catch (...) {
                rc = 3;
            }
            ::_exit(rc);
        }
        pids.push_back(pid);
    }
    for (pid_t pid : pids) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    EXPECT_EQ(netlib::find_link(sock(), "brp2")->kind, "bridge");
}

TEST_F(Bridge, NameTakenByANonBridgeIsAnError) {
    netlib::VethSpec veth;
    veth.host_name = "br9";
    veth.peer_name = "br9p";
    (void)netlib::create_veth(sock(), veth);
    try {
        (void)netlib::ensure_bridge(sock(), BridgeSpec{"br9", {}, false, {}});
        FAIL() << "expected EEXIST";
    } catch (const netlib::Error& e) {
        std::string msg = e.what();
        EXPECT_EQ(e.code(), EEXIST);
        EXPECT_EQ(msg.rfind("RTM_NEWLINK br9: File exists (exists and is not a bridge", 0), 0U)
            << msg;
    }
    EXPECT_EQ(netlib::find_link(sock(), "br9")->kind, "veth");
}

TEST_F(Bridge, HairpinAndIsolatedFlags) {
    auto [br, port] = bridge_with_port();
    auto info = netlib::bridge_port_info(sock(), port.index);
    ASSERT_TRUE(info);
    EXPECT_FALSE(info->hairpin);
    EXPECT_FALSE(info->isolated);
    EXPECT_TRUE(info->learning);  // kernel default

    netlib::BridgePortFlags on;
    on.hairpin = true;
    on.isolated = true;
    netlib::set_bridge_port_flags(sock(), port.index, on);
    info = netlib::bridge_port_info(sock(), port.index);
    EXPECT_TRUE(info->hairpin);
    EXPECT_TRUE(info->isolated);
    EXPECT_TRUE(info->learning);  // untouched

    netlib::BridgePortFlags off;
    off.hairpin = false;
    off.learning = false;
    netlib::set_bridge_port_flags(sock(), port.index, off);
    info = netlib::bridge_port_info(sock(), port.index);
    EXPECT_FALSE(info->hairpin);
    EXPECT_TRUE(info->isolated);
    EXPECT_FALSE(info->learning);
}

TEST_F(Bridge, PortFlagsAndNoLinkLocalGivenAtCreation) {
    LinkInfo br = netlib::ensure_bridge(sock(), BridgeSpec{"brc", std::nullopt, false, {}});
    netlib::VethSpec spec;
    spec.host_name = "portc";
    spec.peer_name = "portcp";
    spec.master = br.index;
    spec.host_link_local = false;
    spec.port_flags.hairpin = true;
    LinkInfo port = netlib::create_veth(sock(), spec);
    auto info = netlib::bridge_port_info(sock(), port.index);
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->hairpin);
    EXPECT_FALSE(info->isolated);  // not asked for: left at the kernel's default
    EXPECT_TRUE(info->learning);
    // The peer's link-local address appears once the kernel has seen the carrier come up
    // (link watch, asynchronous); by then the host end would have one too.
    std::vector<netlib::IpNet> peer;
    EXPECT_TRUE(sdnet::test::eventually([&] {
        peer = netlib::list_addresses(sock(), port.peer_index, netlib::Family::V6);
        return !peer.empty();
    }));
    EXPECT_EQ(peer.size(), 1U) << "the peer keeps its link-local address";
    EXPECT_TRUE(netlib::list_addresses(sock(), port.index, netlib::Family::V6).empty());
}

TEST_F(Bridge, PortStateForwardsWithStpOff) {
    auto [br, port] = bridge_with_port();
    // Without STP the port forwards as soon as it has carrier; allow the kernel a moment.
    std::optional<std::uint8_t> state;
    EXPECT_TRUE(sdnet::test::eventually([&] {
        state = netlib::bridge_port_state(sock(), port.index);
        return state == BR_STATE_FORWARDING;
    }));
    EXPECT_EQ(state, std::optional<std::uint8_t>{BR_STATE_FORWARDING});
    netlib::set_up(sock(), port.index, false);
    EXPECT_EQ(netlib::bridge_port_state(sock(), port.index),
              std::optional<std::uint8_t>{BR_STATE_DISABLED});
}

// The wait reads link notifications: a port that gets its carrier while the wait runs is seen
// enabled (without the notification it would return "disabled" at the generous deadline).
TEST_F(Bridge, PortWaitSeesThePortEnabledWhenItsPeerComesUp) {
    auto [br, port] = port_without_carrier();
    std::uint8_t state = BR_STATE_DISABLED;
    std::thread waiter([&state, index = port.index] {
        RouteSocket own = RouteSocket::open();
        state = netlib::wait_bridge_port_enabled(own, index, std::chrono::seconds(60));
    });
    netlib::set_up(sock(), port.peer_index, true);
    waiter.join();
    EXPECT_EQ(state, BR_STATE_FORWARDING);
}

TEST_F(Bridge, PortWaitGivesUpOnAPortWithoutCarrier) {
    auto [br, port] = port_without_carrier();
    EXPECT_EQ(netlib::wait_bridge_port_enabled(sock(), port.index, std::chrono::milliseconds(50)),
              BR_STATE_DISABLED);
    EXPECT_THROW((void)netlib::wait_bridge_port_enabled(sock(), br.index, std::chrono::seconds(1)),
                 netlib::Error);
}

TEST_F(Bridge, PortQueriesOnNonPorts) {
    LinkInfo br = netlib::ensure_bridge(sock(), BridgeSpec{"brn", {}, false, {}});
    EXPECT_FALSE(netlib::bridge_port_state(sock(), br.index));
    EXPECT_FALSE(netlib::bridge_port_state(sock(), 1));
    EXPECT_FALSE(netlib::bridge_port_state(sock(), 4242));
    netlib::BridgePortFlags hairpin;
    hairpin.hairpin = true;
    try {
        netlib::set_bridge_port_flags(sock(), 1, hairpin);
        FAIL() << "expected an error for lo";
    } catch (const netlib::Error& e) {
        EXPECT_EQ(std::string{e.what()}.rfind("RTM_SETLINK lo (#1): ", 0), 0U) << e.what();
    }
}

}  // namespace
