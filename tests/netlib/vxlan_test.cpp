// VXLAN devices, their FDB, permanent neighbours and onlink routes through them, against the
// real kernel in a private netns; iproute2 (`ip -j`, `bridge -j`) is the independent observer.
#include "netlib/vxlan.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "netlib/addr.hpp"
#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/neigh.hpp"
#include "netlib/route.hpp"
#include "netlib/route_socket.hpp"
#include "tests/support/bridge_harness.hpp"

namespace sdnet::test {
namespace {

using netlib::FdbEntry;
using netlib::IpAddr;
using netlib::IpNet;
using netlib::MacAddr;
using netlib::NeighEntry;
using netlib::RouteSocket;
using netlib::VxlanSpec;

class Vxlan : public NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        sock_.emplace(RouteSocket::open());
        netlib::VethSpec spec;
        spec.host_name = "under0";
        spec.peer_name = "under1";
        underlay_ = netlib::create_veth(*sock_, spec).index;
        netlib::add_address(*sock_, underlay_, IpNet::parse("192.0.2.1/24"));
        netlib::add_address(*sock_, underlay_, IpNet::parse("2001:db8::1/64"), {.nodad = true});
    }

    RouteSocket& sock() { return *sock_; }

    static VxlanSpec vxlan(const char* local) {
        VxlanSpec spec;
        spec.name = "vx0";
        spec.vni = 7;
        spec.local = IpAddr::parse(local);
        return spec;
    }

    json details(const std::string& name) {
        json j = ip_json("-d link show " + name);
        return j.empty() ? json{} : j[0];
    }

    // `bridge -j fdb show dev NAME` as "mac dst" strings, sorted.
    std::vector<std::string> fdb(const std::string& name) {
        std::vector<std::string> out;
        for (const auto& e : json::parse(observe("bridge -j fdb show dev " + name))) {
            if (e.contains("dst")) {
                out.push_back(e["mac"].get<std::string>() + " " + e["dst"].get<std::string>());
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    std::optional<RouteSocket> sock_;
    int underlay_ = 0;
};

TEST_F(Vxlan, CreatesTheDeviceAsSpecifiedAndReadsItBack) {
    VxlanSpec spec;
    spec.name = "vx0";
    spec.vni = 4242;
    spec.local = IpAddr::parse("192.0.2.1");
    spec.link = underlay_;
    spec.learning = false;
    spec.df = true;
    spec.mtu = 1450;
    spec.mac = MacAddr::parse("02:00:00:00:42:42");
    spec.up = true;
    spec.link_local = false;
    auto link = netlib::create_vxlan(sock(), spec);
    EXPECT_EQ(link.kind, "vxlan");
    EXPECT_EQ(link.mtu, 1450U);
    EXPECT_EQ(link.mac, *spec.mac);
    EXPECT_TRUE(link.up);

    json d = details("vx0");
    const json& data = d["linkinfo"]["info_data"];
    EXPECT_EQ(data["id"], 4242);
    EXPECT_EQ(data["port"], 4789);
    EXPECT_EQ(data["local"], "192.0.2.1");
    EXPECT_EQ(data["link"], "under0");
    EXPECT_EQ(data["learning"], false);
    EXPECT_EQ(data["df"], "set");
    EXPECT_EQ(d["inet6_addr_gen_mode"], "none");

    auto info = netlib::vxlan_info(sock(), link.index);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->vni, 4242U);
    EXPECT_EQ(info->port, 4789);
    EXPECT_EQ(info->local, spec.local);
    EXPECT_FALSE(info->group);
    EXPECT_EQ(info->link, underlay_);
    EXPECT_FALSE(info->learning);
    EXPECT_TRUE(info->df);

    EXPECT_FALSE(netlib::vxlan_info(sock(), underlay_));  // a veth
    EXPECT_FALSE(netlib::vxlan_info(sock(), 4242));       // nothing
}

TEST_F(Vxlan, Ipv6LocalMulticastGroupPortAndBridgeMaster) {
    auto br = netlib::ensure_bridge(sock(), {"vxbr0", {}, false, {}});
    VxlanSpec spec;
    spec.name = "vx6";
    spec.vni = 16777215;
    spec.port = 8472;
    spec.local = IpAddr::parse("2001:db8::1");
    spec.group = IpAddr::parse("ff05::42");
    spec.link = underlay_;
    spec.master = br.index;
    auto link = netlib::create_vxlan(sock(), spec);
    EXPECT_EQ(link.master, br.index);
    json data = details("vx6")["linkinfo"]["info_data"];
    EXPECT_EQ(data["id"], 16777215);
    EXPECT_EQ(data["port"], 8472);
    EXPECT_EQ(data["local6"], "2001:db8::1");
    EXPECT_EQ(data["group6"], "ff05::42");
    EXPECT_EQ(data["learning"], true);
    auto info = netlib::vxlan_info(sock(), link.index);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->group, spec.group);
    EXPECT_EQ(info->local, spec.local);
    EXPECT_EQ(info->port, 8472);
}

TEST_F(Vxlan, RefusesBadSpecsAndTakenNames) {
    VxlanSpec spec;
    spec.name = "vx0";
    spec.vni = 0;
    EXPECT_THROW((void)netlib::create_vxlan(sock(), spec), std::invalid_argument);
    spec.vni = 16777216;
    EXPECT_THROW((void)netlib::create_vxlan(sock(), spec), std::invalid_argument);
    spec.vni = 1;
    spec.group = IpAddr::parse("192.0.2.9");
    EXPECT_THROW((void)netlib::create_vxlan(sock(), spec), std::invalid_argument);
    spec.group = IpAddr::parse("239.1.1.1");
    spec.local = IpAddr::parse("2001:db8::1");
    EXPECT_THROW((void)netlib::create_vxlan(sock(), spec), std::invalid_argument);
    EXPECT_FALSE(netlib::find_link(sock(), "vx0"));

    spec.group.reset();
    spec.local.reset();
    (void)netlib::create_vxlan(sock(), spec);
    try {
        (void)netlib::create_vxlan(sock(), spec);
        ADD_FAILURE() << "a second vx0 was created";
    } catch (const netlib::Error& e) {
        EXPECT_EQ(e.code(), EEXIST);
        EXPECT_NE(std::string{e.what()}.find("RTM_NEWLINK vx0"), std::string::npos) << e.what();
    }
}

TEST_F(Vxlan, AllZeroFdbEntriesReplicateToEveryPeerAndGoOneByOne) {
    VxlanSpec spec = vxlan("192.0.2.1");
    int vx = netlib::create_vxlan(sock(), spec).index;
    MacAddr zero;
    netlib::append_fdb(sock(), vx, {zero, IpAddr::parse("192.0.2.2")});
    netlib::append_fdb(sock(), vx, {zero, IpAddr::parse("192.0.2.3")});
    EXPECT_EQ(fdb("vx0"), (std::vector<std::string>{"00:00:00:00:00:00 192.0.2.2",
                                                    "00:00:00:00:00:00 192.0.2.3"}));
    auto listed = netlib::list_fdb(sock(), vx);
    std::sort(listed.begin(), listed.end());
    EXPECT_EQ(listed, (std::vector<FdbEntry>{{zero, IpAddr::parse("192.0.2.2")},
                                             {zero, IpAddr::parse("192.0.2.3")}}));
    netlib::append_fdb(sock(), vx, {zero, IpAddr::parse("192.0.2.2")});  // already there
    EXPECT_EQ(netlib::list_fdb(sock(), vx).size(), 2U);

    EXPECT_TRUE(netlib::remove_fdb(sock(), vx, {zero, IpAddr::parse("192.0.2.2")}));
    EXPECT_EQ(fdb("vx0"), (std::vector<std::string>{"00:00:00:00:00:00 192.0.2.3"}));
    EXPECT_TRUE(netlib::remove_fdb(sock(), vx, {zero, IpAddr::parse("192.0.2.3")}));
    EXPECT_EQ(fdb("vx0"), std::vector<std::string>{});
    EXPECT_FALSE(netlib::remove_fdb(sock(), vx, {zero, IpAddr::parse("192.0.2.3")}));
}

TEST_F(Vxlan, ReplaceMovesAMacToAnotherRemoteIpv6Too) {
    VxlanSpec spec = vxlan("2001:db8::1");
    int vx = netlib::create_vxlan(sock(), spec).index;
    MacAddr mac = MacAddr::parse("02:00:00:00:00:02");
    netlib::replace_fdb(sock(), vx, {mac, IpAddr::parse("2001:db8::2")});
    netlib::replace_fdb(sock(), vx, {mac, IpAddr::parse("2001:db8::3")});
    EXPECT_EQ(fdb("vx0"), (std::vector<std::string>{"02:00:00:00:00:02 2001:db8::3"}));
    EXPECT_EQ(netlib::list_fdb(sock(), vx),
              (std::vector<FdbEntry>{{mac, IpAddr::parse("2001:db8::3")}}));
}

TEST_F(Vxlan, PermanentNeighboursAndOnlinkRoutesThroughTheDevice) {
    VxlanSpec spec = vxlan("192.0.2.1");
    spec.up = true;
    int vx = netlib::create_vxlan(sock(), spec).index;
    MacAddr mac = MacAddr::parse("02:00:00:00:00:02");
    netlib::replace_neigh(sock(), vx, {IpAddr::parse("10.244.2.0"), mac});
    netlib::replace_neigh(sock(), vx, {IpAddr::parse("fd00:244:2::"), mac});
    json n4 = ip_json("neigh show dev vx0 10.244.2.0");
    ASSERT_EQ(n4.size(), 1U);
    EXPECT_EQ(n4[0]["lladdr"], "02:00:00:00:00:02");
    EXPECT_EQ(n4[0]["state"][0], "PERMANENT");
    auto listed = netlib::list_permanent_neighs(sock(), vx);
    std::sort(listed.begin(), listed.end());
    EXPECT_EQ(listed, (std::vector<NeighEntry>{{IpAddr::parse("10.244.2.0"), mac},
                                               {IpAddr::parse("fd00:244:2::"), mac}}));

    netlib::RouteSpec r;
    r.dst = IpNet::parse("10.244.2.0/24");
    r.gw = IpAddr::parse("10.244.2.0");
    r.ifindex = vx;
    r.onlink = true;
    netlib::add_route(sock(), r);
    json routes = ip_json("route show 10.244.2.0/24");
    ASSERT_EQ(routes.size(), 1U);
    EXPECT_EQ(routes[0]["gateway"], "10.244.2.0");
    EXPECT_EQ(routes[0]["dev"], "vx0");
    EXPECT_EQ(routes[0]["flags"], json::array({"onlink"}));

    EXPECT_TRUE(netlib::remove_neigh(sock(), vx, IpAddr::parse("10.244.2.0")));
    EXPECT_FALSE(netlib::remove_neigh(sock(), vx, IpAddr::parse("10.244.2.0")));
    EXPECT_EQ(netlib::list_permanent_neighs(sock(), vx),
              (std::vector<NeighEntry>{{IpAddr::parse("fd00:244:2::"), mac}}));
}

}  // namespace
}  // namespace sdnet::test
