#include "netlib/link.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "netlib/error.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/skip.hpp"

namespace {

using netlib::LinkInfo;
using netlib::MacAddr;
using netlib::RouteSocket;

class Link : public sdnet::test::NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        sock_.emplace(RouteSocket::open());
    }

    RouteSocket& sock() { return *sock_; }

    // A veth pair with both ends in this namespace.
    LinkInfo local_veth(const std::string& a, const std::string& b, bool up = true) {
        netlib::VethSpec spec;
        spec.host_name = a;
        spec.peer_name = b;
        spec.up = up;
        return netlib::create_veth(sock(), spec);
    }

    LinkInfo get(const std::string& name) {
        auto l = netlib::find_link(sock(), name);
        EXPECT_TRUE(l.has_value()) << name;
        return l.value_or(LinkInfo{});
    }

    std::optional<RouteSocket> sock_;
};

// Runs `f`, expecting a netlib::Error with `code` whose message names `op` and `object`.
template <class F>
void expect_error(F&& f, int code, const std::string& op, const std::string& object) {
    try {
        f();
        ADD_FAILURE() << "expected " << op << " to fail";
    } catch (const netlib::Error& e) {
        std::string msg = e.what();
        EXPECT_EQ(e.code(), code) << msg;
        EXPECT_EQ(msg.rfind(op + " ", 0), 0U) << msg;
        EXPECT_NE(msg.find(object), std::string::npos) << msg;
    }
}

TEST_F(Link, FindLoByNameAndIndex) {
    auto by_name = netlib::find_link(sock(), "lo");
    ASSERT_TRUE(by_name);
    EXPECT_EQ(by_name->index, 1);
    EXPECT_EQ(by_name->kind, "");
    EXPECT_TRUE(by_name->up);  // the fixture brought it up
    EXPECT_TRUE(by_name->oper_up);
    EXPECT_TRUE(by_name->mac.is_zero());
    auto by_index = netlib::find_link(sock(), 1);
    ASSERT_TRUE(by_index);
    EXPECT_EQ(by_index->name, "lo");
}

TEST_F(Link, MissingLinksAreNullopt) {
    EXPECT_FALSE(netlib::find_link(sock(), "nope0"));
    EXPECT_FALSE(netlib::find_link(sock(), 4242));
    EXPECT_FALSE(netlib::find_link(sock(), 0));
    EXPECT_FALSE(netlib::find_link(sock(), ""));
    EXPECT_FALSE(netlib::find_link(sock(), "a-name-longer-than-15"));
}

TEST_F(Link, ListLinks) {
    local_veth("lst0", "lst1");
    auto links = netlib::list_links(sock());
    ASSERT_EQ(links.size(), 3U);
    EXPECT_EQ(links[0].name, "lo");
    EXPECT_EQ(links[1].kind, "veth");
    EXPECT_EQ(links[2].kind, "veth");
}

TEST_F(Link, VethWithPeerInSecondNetns) {
    auto ctr = make_netns("ctr");
    MacAddr mac = MacAddr::parse("02:11:22:33:44:55");
    netlib::VethSpec spec{"vethT1", "eth0", &ctr.ns, 1400, mac, 0, true};
    LinkInfo host = netlib::create_veth(sock(), spec);
    EXPECT_EQ(host.name, "vethT1");
    EXPECT_EQ(host.kind, "veth");
    EXPECT_EQ(host.mtu, 1400U);
    EXPECT_TRUE(host.up);
    EXPECT_EQ(host.master, 0);
    EXPECT_FALSE(netlib::find_link(sock(), "eth0"));  // never visible on the host side

    RouteSocket in_ctr = RouteSocket::open_in(ctr.ns);
    auto peer = netlib::find_link(in_ctr, "eth0");
    ASSERT_TRUE(peer);
    EXPECT_EQ(peer->kind, "veth");
    EXPECT_EQ(peer->mac, mac);
    EXPECT_EQ(peer->mtu, 1400U);
    EXPECT_TRUE(peer->up);
    EXPECT_EQ(host.peer_index, peer->index);
    EXPECT_EQ(peer->peer_index, host.index);
    // Both ends up: carrier on both sides.
    EXPECT_TRUE(get("vethT1").oper_up);

    // With a socket already in the container, the peer is brought up through it.
    netlib::VethSpec again{"vethT2", "eth1", &ctr.ns, std::nullopt, std::nullopt, 0, true};
    again.peer_sock = &in_ctr;
    LinkInfo host2 = netlib::create_veth(sock(), again);
    auto peer2 = netlib::find_link(in_ctr, "eth1");
    ASSERT_TRUE(peer2);
    EXPECT_TRUE(peer2->up);
    EXPECT_EQ(host2.peer_index, peer2->index);
}

// What `ip -j -d link show` reports for one link (`where`: "" or "-n NS ").
nlohmann::json link_details(const std::string& where, const std::string& name) {
    std::FILE* p = ::popen(("ip -j -d " + where + "link show " + name).c_str(), "r");
    if (p == nullptr) {
        throw std::runtime_error("popen ip");
    }
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p) != nullptr) {
        out += buf;
    }
    if (::pclose(p) != 0) {
        throw std::runtime_error("ip -j -d link show " + name + ": " + out);
    }
    return nlohmann::json::parse(out).at(0);
}

// netlib asks for one queue per end instead of letting the kernel allocate one per CPU and trim
// them after registration (an expedited RCU wait per end). The kernel reports the counts as
// IFLA_NUM_TX_QUEUES, and IFLA_NUM_RX_QUEUES only when built with RPS (receive queues exist for
// nothing else): each count is checked where the kernel has it.
class VethQueues : public Link {
protected:
    // Both ends' `ip -j -d` details: the host end here, eth0 in a new namespace.
    std::vector<nlohmann::json> veth_ends() {
        auto ctr = make_netns("ctr");
        netlib::VethSpec spec{"vethQ1", "eth0", &ctr.ns, std::nullopt, std::nullopt, 0, true};
        (void)netlib::create_veth(sock(), spec);
        return {link_details("", "vethQ1"), link_details("-n " + ctr.name + " ", "eth0")};
    }
};

TEST_F(VethQueues, OneTransmitQueuePerEnd) {
    for (const auto& end : veth_ends()) {
        EXPECT_EQ(end.value("num_tx_queues", 0), 1) << end.dump();
    }
}

TEST_F(VethQueues, OneReceiveQueuePerEnd) {
    SDNET_REQUIRE_KERNEL(sdnet::test::KernelFeature::Rps);
    for (const auto& end : veth_ends()) {
        EXPECT_EQ(end.value("num_rx_queues", 0), 1) << end.dump();
    }
}

TEST_F(Link, VethDownWhenAskedAndEnslaved) {
    auto br = netlib::ensure_bridge(sock(), {"brv", std::nullopt, false, std::nullopt});
    netlib::VethSpec spec;
    spec.host_name = "vethD";
    spec.peer_name = "vethDp";
    spec.master = br.index;
    spec.up = false;
    LinkInfo host = netlib::create_veth(sock(), spec);
    EXPECT_FALSE(host.up);
    EXPECT_EQ(host.master, br.index);
    EXPECT_FALSE(get("vethDp").up);
}

TEST_F(Link, VethNameConflictsNameTheLink) {
    local_veth("dup0", "dup1");
    expect_error([&] { local_veth("dup0", "other1"); }, EEXIST, "RTM_NEWLINK", "dup0");
    auto ctr = make_netns("ctr");
    RouteSocket in_ctr = RouteSocket::open_in(ctr.ns);
    netlib::VethSpec taken{"x0", "eth0", nullptr, std::nullopt, std::nullopt, 0, true};
    (void)netlib::create_veth(in_ctr, taken);
    // The peer's name is taken inside the container.
    netlib::VethSpec spec{"vethP", "eth0", &ctr.ns, std::nullopt, std::nullopt, 0, true};
    expect_error([&] { (void)netlib::create_veth(sock(), spec); }, EEXIST, "RTM_NEWLINK", "eth0");
    EXPECT_FALSE(netlib::find_link(sock(), "vethP"));  // nothing half-created
}

TEST_F(Link, RandomVethName) {
    std::string a = netlib::random_veth_name();
    std::string b = netlib::random_veth_name();
    // "veth" + 8 lower-case hex digits (no std::regex: g++ 12 -O1 warns inside it).
    ASSERT_EQ(a.size(), 12U) << a;
    EXPECT_EQ(a.rfind("veth", 0), 0U) << a;
    EXPECT_TRUE(std::all_of(a.begin() + 4, a.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    })) << a;
    EXPECT_NE(a, b);
    local_veth(a, b);  // valid interface names
}

TEST_F(Link, UpDown) {
    LinkInfo v = local_veth("ud0", "ud1", false);
    EXPECT_FALSE(v.up);
    netlib::set_up(sock(), v.index, true);
    EXPECT_TRUE(get("ud0").up);
    netlib::set_up(sock(), v.index, false);
    EXPECT_FALSE(get("ud0").up);
}

TEST_F(Link, MtuMacNamePromisc) {
    LinkInfo v = local_veth("m0", "m1", false);
    netlib::set_mtu(sock(), v.index, 1280);
    EXPECT_EQ(get("m0").mtu, 1280U);

    MacAddr mac = MacAddr::parse("02:aa:bb:cc:dd:ee");
    netlib::set_mac(sock(), v.index, mac);
    EXPECT_EQ(get("m0").mac, mac);

    netlib::set_name(sock(), v.index, "renamed0");
    EXPECT_FALSE(netlib::find_link(sock(), "m0"));
    EXPECT_EQ(get("renamed0").index, v.index);

    netlib::set_promisc(sock(), v.index, true);
    EXPECT_TRUE(get("renamed0").promisc);
    netlib::set_promisc(sock(), v.index, false);
    EXPECT_FALSE(get("renamed0").promisc);
}

TEST_F(Link, MasterAndNomaster) {
    auto br = netlib::ensure_bridge(sock(), {"brm", std::nullopt, false, std::nullopt});
    LinkInfo v = local_veth("ms0", "ms1");
    netlib::set_master(sock(), v.index, br.index);
    EXPECT_EQ(get("ms0").master, br.index);
    netlib::set_master(sock(), v.index, 0);
    EXPECT_EQ(get("ms0").master, 0);
}

TEST_F(Link, ChangesOnMissingLinkNameTheIndex) {
    expect_error([&] { netlib::set_up(sock(), 4242, true); }, ENODEV, "RTM_NEWLINK", "#4242");
    expect_error([&] { netlib::set_mtu(sock(), 4242, 1500); }, ENODEV, "RTM_NEWLINK", "#4242");
}

TEST_F(Link, KernelExtAckIsInTheMessage) {
    LinkInfo v = local_veth("ea0", "ea1");
    try {
        netlib::set_mtu(sock(), v.index, 100000);
        FAIL() << "expected EINVAL";
    } catch (const netlib::Error& e) {
        std::string msg = e.what();
        EXPECT_EQ(e.code(), EINVAL);
        EXPECT_EQ(msg.rfind("RTM_NEWLINK ea0 (#" + std::to_string(v.index) + "): ", 0), 0U) << msg;
        // The kernel's own words, e.g. "(mtu greater than device maximum)".
        EXPECT_NE(msg.find("mtu"), std::string::npos) << msg;
    }
}

TEST_F(Link, RemoveTwiceByNameAndIndex) {
    local_veth("rm0", "rm1");
    EXPECT_TRUE(netlib::remove_link(sock(), "rm0"));
    EXPECT_FALSE(netlib::remove_link(sock(), "rm0"));
    EXPECT_FALSE(netlib::find_link(sock(), "rm1"));  // the pair goes together
    LinkInfo v = local_veth("rm2", "rm3");
    EXPECT_TRUE(netlib::remove_link(sock(), v.index));
    EXPECT_FALSE(netlib::remove_link(sock(), v.index));
    EXPECT_FALSE(netlib::remove_link(sock(), ""));
}

TEST_F(Link, RemovingHostEndRemovesContainerEnd) {
    auto ctr = make_netns("ctr");
    netlib::VethSpec spec{"vethR", "eth0", &ctr.ns, std::nullopt, std::nullopt, 0, true};
    (void)netlib::create_veth(sock(), spec);
    EXPECT_TRUE(netlib::remove_link(sock(), "vethR"));
    RouteSocket in_ctr = RouteSocket::open_in(ctr.ns);
    EXPECT_FALSE(netlib::find_link(in_ctr, "eth0"));
}

TEST_F(Link, MacvlanInContainer) {
    LinkInfo parent = local_veth("mvp0", "mvp1");
    auto ctr = make_netns("ctr");
    MacAddr mac = MacAddr::parse("02:00:00:00:00:42");
    netlib::MacvlanSpec spec;
    spec.name = "eth0";
    spec.master = parent.index;
    spec.mtu = 1400;
    spec.mac = mac;
    spec.netns = &ctr.ns;
    spec.up = true;
    LinkInfo mv = netlib::create_macvlan(sock(), spec);
    EXPECT_EQ(mv.name, "eth0");
    EXPECT_EQ(mv.kind, "macvlan");
    EXPECT_EQ(mv.mac, mac);
    EXPECT_EQ(mv.mtu, 1400U);
    EXPECT_TRUE(mv.up);
    EXPECT_FALSE(netlib::find_link(sock(), "eth0"));

    spec.mode = "bogus";
    EXPECT_THROW((void)netlib::create_macvlan(sock(), spec), std::invalid_argument);
    spec.mode = "private";
    spec.netns = nullptr;
    spec.name = "mvl0";
    spec.mac.reset();
    EXPECT_EQ(netlib::create_macvlan(sock(), spec).kind, "macvlan");
    spec.name = "mvl1";
    spec.mtu = 9000;  // above the parent's MTU
    expect_error([&] { (void)netlib::create_macvlan(sock(), spec); }, EINVAL, "RTM_NEWLINK",
                 "mvl1");
}

}  // namespace
