// The macvlan plugin: ADD/DEL/CHECK/GC/STATUS as a runtime calls it, on a master that is a veth
// inside the test's private netns, and the same calls against /usr/lib/cni/macvlan.
#include <algorithm>
#include <filesystem>
#include <gtest/gtest.h>
#include <string>

#include "netlib/addr.hpp"
#include "netlib/link.hpp"
#include "netlib/route.hpp"
#include "netlib/route_socket.hpp"
#include "tests/support/child_link_harness.hpp"
#include "tests/support/eventually.hpp"

namespace sdnet::test {
namespace {

class MacvlanTest : public ChildLinkTest {
protected:
    MacvlanTest() : ChildLinkTest("macvlan") {}

    json conf(const std::string& version = "1.0.0") const {
        return ChildLinkTest::conf(version, "mvnet");
    }

    Call mv(const std::string& command, const TestNetns& ns, const json& c,
            const std::string& binary = "") {
        return call(command, ns, c, binary);
    }
};

TEST_F(MacvlanTest, AddCreatesAMacvlanOfTheMasterWithTheAllocatedAddresses) {
    auto ns = make_netns("c1");
    json out = add_ok(ns, conf());
    ASSERT_TRUE(out.is_object());
    ASSERT_EQ(out["interfaces"].size(), 1u);
    EXPECT_EQ(out["interfaces"][0]["name"], "eth0");
    EXPECT_EQ(out["interfaces"][0]["sandbox"], ns.path);
    EXPECT_EQ(out["ips"][0]["address"], "10.77.0.2/24");
    EXPECT_EQ(out["ips"][0]["interface"], 0);

    json link = link_in(ns);
    ASSERT_TRUE(link.is_object()) << "no eth0 in " << ns.name;
    EXPECT_EQ(link["linkinfo"]["info_kind"], "macvlan");
    EXPECT_EQ(link["linkinfo"]["info_data"]["mode"], "bridge");
    EXPECT_EQ(link["mtu"], 1400);  // the master's
    EXPECT_EQ(link["address"], out["interfaces"][0]["mac"]);
    EXPECT_EQ(link["link_index"], master_.index);
    EXPECT_EQ(addresses_in(ns), (std::vector<std::string>{"10.77.0.2/24", "fd77::2/64"}));
    auto routes = ip_json("-n " + ns.name + " route show 10.99.0.0/16");
    ASSERT_EQ(routes.size(), 1u);
    EXPECT_EQ(routes[0]["dev"], "eth0");
    EXPECT_EQ(observe("ip netns exec " + ns.name + " cat /proc/sys/net/ipv4/conf/eth0/arp_notify"),
              "1\n");
    EXPECT_EQ(
        observe("ip netns exec " + ns.name + " cat /proc/sys/net/ipv6/conf/eth0/ndisc_notify"),
        "1\n");
}

TEST_F(MacvlanTest, TwoContainersOnOneMasterReachEachOther) {
    auto a = make_netns("a");
    auto b = make_netns("b");
    add_ok(a, conf());
    json out = add_ok(b, conf());
    std::string addr_b = out["ips"][0]["address"];
    EXPECT_TRUE(ping(a.name, addr_b.substr(0, addr_b.find('/'))));
}

TEST_F(MacvlanTest, ModeMtuAndMacFromTheConfiguration) {
    auto ns = make_netns("c1");
    json c = conf();
    c["mode"] = "private";
    c["mtu"] = 1300;
    c["mac"] = "02:00:00:00:00:01";
    add_ok(ns, c);
    json link = link_in(ns);
    EXPECT_EQ(link["linkinfo"]["info_data"]["mode"], "private");
    EXPECT_EQ(link["mtu"], 1300);
    EXPECT_EQ(link["address"], "02:00:00:00:00:01");
}

TEST_F(MacvlanTest, MacPrecedenceIsKeyThenCniArgsThenRuntimeConfig) {
    auto ns = make_netns("c1");
    json c = conf();
    c["mac"] = "02:00:00:00:00:01";
    c["runtimeConfig"] = {{"mac", "02:00:00:00:00:03"}};
    auto r = run_env({{"CNI_COMMAND", "ADD"},
                      {"CNI_CONTAINERID", "ctr-" + ns.name},
                      {"CNI_NETNS", ns.path},
                      {"CNI_IFNAME", "eth0"},
                      {"CNI_PATH", plugin_path("")},
                      {"CNI_ARGS", "IgnoreUnknown=1;MAC=02:00:00:00:00:02"}},
                     c, plugin_path("macvlan"));
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_EQ(link_in(ns)["address"], "02:00:00:00:00:03");
    auto ns2 = make_netns("c2");
    c.erase("runtimeConfig");
    r = run_env({{"CNI_COMMAND", "ADD"},
                 {"CNI_CONTAINERID", "ctr-" + ns2.name},
                 {"CNI_NETNS", ns2.path},
                 {"CNI_IFNAME", "eth0"},
                 {"CNI_PATH", plugin_path("")},
                 {"CNI_ARGS", "IgnoreUnknown=1;MAC=02:00:00:00:00:02"}},
                c, plugin_path("macvlan"));
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_EQ(link_in(ns2)["address"], "02:00:00:00:00:02");
}

TEST_F(MacvlanTest, WithoutMasterTheDefaultRouteInterfaceIsUsed) {
    auto ns = make_netns("c1");
    json c = conf();
    c.erase("master");
    auto none = mv("ADD", ns, c);
    EXPECT_EQ(none.code(), 7);
    EXPECT_NE(none.r.out.find("no default route"), std::string::npos) << none.r.out;
    EXPECT_TRUE(link_in(ns).is_null());
    EXPECT_TRUE(reservations("mvnet").empty());

    auto sock = netlib::RouteSocket::open();
    netlib::add_address(sock, master_.index, netlib::IpNet::parse("192.168.77.1/24"));
    netlib::RouteSpec def;
    def.dst = netlib::IpNet::parse("0.0.0.0/0");
    def.gw = netlib::IpAddr::parse("192.168.77.254");
    def.ifindex = master_.index;
    netlib::append_route(sock, def);
    add_ok(ns, c);
    EXPECT_EQ(link_in(ns)["link_index"], master_.index);
}

TEST_F(MacvlanTest, BadKeysAreCode7NamingThem) {
    auto ns = make_netns("c1");
    auto with = [&](const char* key, json value) {
        json c = conf();
        c[key] = std::move(value);
        return mv("ADD", ns, c);
    };
    auto expect_named = [](const Call& r, const std::string& name) {
        EXPECT_EQ(r.code(), 7) << r.r.out;
        EXPECT_NE(r.r.out.find(name), std::string::npos) << r.r.out;
    };
    expect_named(with("mode", "l3"), "\\\"mode\\\"");
    expect_named(with("mtu", 9000), "\\\"mtu\\\" 9000: must be at most");
    expect_named(with("mtu", "big"), "mtu");
    expect_named(with("master", "nosuch0"), "\\\"master\\\" interface \\\"nosuch0\\\"");
    expect_named(with("mac", "02:zz"), "\\\"mac\\\"");
    expect_named(with("linkInContainer", "yes"), "linkInContainer");
    EXPECT_TRUE(link_in(ns).is_null());
    EXPECT_TRUE(reservations("mvnet").empty());
}

TEST_F(MacvlanTest, FailedAddLeavesNoLinkAndNoAddress) {
    auto ns = make_netns("c1");
    // The container already has an eth0: ADD fails after the allocation started.
    auto ctr = netlib::RouteSocket::open_in(ns.ns);
    netlib::VethSpec taken{"eth0", "other0", nullptr, std::nullopt, std::nullopt, 0, true, nullptr};
    (void)netlib::create_veth(ctr, taken);
    auto r = mv("ADD", ns, conf());
    EXPECT_NE(r.r.exit_code, 0);
    EXPECT_NE(r.r.out.find("already exists"), std::string::npos) << r.r.out;
    EXPECT_EQ(link_in(ns)["linkinfo"]["info_kind"], "veth");
    EXPECT_TRUE(reservations("mvnet").empty());
    for (const auto& l : ip_json("-n " + ns.name + " -d link show")) {
        EXPECT_NE(l.value("linkinfo", json::object()).value("info_kind", ""), "macvlan");
    }
}

// The link is created under CNI_IFNAME straight in the container: a link of that name in the
// master's netns (the host's own eth0) is no obstacle, and the link comes up with its creation.
TEST_F(MacvlanTest, AnEth0OnTheHostSideDoesNotClash) {
    auto host = netlib::RouteSocket::open();
    netlib::VethSpec host_eth0{"eth0",       "eth0peer", nullptr, std::nullopt,
                               std::nullopt, 0,          true,    nullptr};
    (void)netlib::create_veth(host, host_eth0);
    auto ns = make_netns("c1");
    json out = add_ok(ns, conf());
    json link = link_in(ns);
    ASSERT_TRUE(out.is_object());
    EXPECT_EQ(out["interfaces"][0]["name"], "eth0");
    EXPECT_EQ(link["linkinfo"]["info_kind"], "macvlan");
    EXPECT_NE(std::find(link["flags"].begin(), link["flags"].end(), "UP"), link["flags"].end())
        << link.dump();
    EXPECT_EQ(netlib::find_link(host, "eth0")->kind, "veth");
}

TEST_F(MacvlanTest, FailedIpamRemovesTheCreatedLink) {
    auto ns = make_netns("c1");
    json c = conf();
    c["ipam"]["type"] = "no-such-ipam";  // fails after the macvlan exists
    auto r = mv("ADD", ns, c);
    EXPECT_NE(r.r.exit_code, 0);
    EXPECT_TRUE(links_besides_lo(ns).empty());
}

TEST_F(MacvlanTest, DelTwiceAndAfterTheNetnsIsGone) {
    auto ns = make_netns("c1");
    json c = conf();
    c["prevResult"] = add_ok(ns, conf());
    EXPECT_EQ(reservations("mvnet").size(), 2u);
    EXPECT_EQ(mv("DEL", ns, c).r.exit_code, 0);
    EXPECT_TRUE(link_in(ns).is_null());
    EXPECT_TRUE(reservations("mvnet").empty());
    EXPECT_EQ(mv("DEL", ns, c).r.exit_code, 0);

    auto gone = make_netns("c2");
    add_ok(gone, conf());
    observe("ip netns del " + gone.name);
    auto d = mv("DEL", gone, conf());
    EXPECT_EQ(d.r.exit_code, 0) << d.r.out;
    EXPECT_TRUE(reservations("mvnet").empty());
    // DEL never fails on what only ADD needs.
    json broken = conf();
    broken["mtu"] = 99999;
    broken["mode"] = "nosuch";
    broken["master"] = "nosuch0";
    auto again = mv("DEL", gone, broken);
    EXPECT_EQ(again.r.exit_code, 0) << again.r.out;
}

TEST_F(MacvlanTest, CheckValidatesModeMasterAndAddresses) {
    auto ns = make_netns("c1");
    json c = conf();
    EXPECT_EQ(mv("CHECK", ns, c).code(), 7);  // no prevResult
    c["prevResult"] = add_ok(ns, conf());
    auto ok = mv("CHECK", ns, c);
    EXPECT_EQ(ok.r.exit_code, 0) << ok.r.out;
    json other_mode = c;
    other_mode["mode"] = "vepa";
    auto mode = mv("CHECK", ns, other_mode);
    EXPECT_NE(mode.r.out.find("has mode bridge"), std::string::npos) << mode.r.out;
    auto sock = netlib::RouteSocket::open();
    netlib::VethSpec spec{"mst1", "mst1peer", nullptr, 1400, std::nullopt, 0, true, nullptr};
    (void)netlib::create_veth(sock, spec);
    json other_master = c;
    other_master["master"] = "mst1";
    auto master = mv("CHECK", ns, other_master);
    EXPECT_NE(master.r.out.find("is not on master \\\"mst1\\\""), std::string::npos)
        << master.r.out;
    auto ctr = netlib::RouteSocket::open_in(ns.ns);
    auto eth0 = netlib::find_link(ctr, "eth0");
    ASSERT_TRUE(eth0);
    ASSERT_TRUE(netlib::remove_address(ctr, eth0->index, netlib::IpNet::parse("10.77.0.2/24")));
    auto addr = mv("CHECK", ns, c);
    EXPECT_NE(addr.r.out.find("address 10.77.0.2/24 is missing"), std::string::npos) << addr.r.out;
}

TEST_F(MacvlanTest, LinkInContainerTakesTheMasterFromTheContainer) {
    auto ns = make_netns("c1");
    auto ctr = netlib::RouteSocket::open_in(ns.ns);
    netlib::VethSpec spec{"inner0", "inner0p", nullptr, 1500, std::nullopt, 0, true, nullptr};
    (void)netlib::create_veth(ctr, spec);
    json c = conf();
    c["master"] = "inner0";
    c["linkInContainer"] = true;
    add_ok(ns, c);
    EXPECT_EQ(link_in(ns)["link"], "inner0");
    EXPECT_FALSE(link_in(ns).contains("link_netnsid"));  // its master is in the same netns
}

TEST_F(MacvlanTest, WithoutIpamTheInterfaceIsL2OnlyAndUp) {
    auto ns = make_netns("c1");
    json c = conf();
    c.erase("ipam");
    json out = add_ok(ns, c);
    EXPECT_FALSE(out.contains("ips") && !out["ips"].empty()) << out.dump();
    json link = link_in(ns);
    EXPECT_NE(std::find(link["flags"].begin(), link["flags"].end(), "UP"), link["flags"].end());
    EXPECT_TRUE(addresses_in(ns).empty());
    // Without IPAM state GC still applies the one rule for the list of valid attachments.
    json gc = c;
    gc["cniVersion"] = "1.1.0";
    gc["cni.dev/valid-attachments"] = json::array({{{"containerID", "c1"}}});
    EXPECT_EQ(mv("GC", ns, gc).code(), 7);
}

TEST_F(MacvlanTest, GcAndStatusPassThroughToIpamInEveryVersion) {
    expect_every_version_then_gc_and_status([&](const std::string& v, int) { return conf(v); },
                                            "mvnet");
}

// Same result as the reference but for the MAC, and the same kernel state.
TEST_F(MacvlanTest, SameResultAndStateAsTheReference) {
    ASSERT_TRUE(std::filesystem::exists("/usr/lib/cni/macvlan"));
    json c = conf();
    c["mode"] = "vepa";
    c["mtu"] = 1300;
    auto ref_ns = make_netns("ref");
    auto ours_ns = make_netns("ours");
    json ref_conf = c;
    ref_conf["name"] = "mvref";
    ref_conf["ipam"]["ranges"] = {{{{"subnet", "10.78.0.0/24"}}}};
    c["ipam"]["ranges"] = {{{{"subnet", "10.78.0.0/24"}}}};
    auto ref = mv("ADD", ref_ns, ref_conf, "/usr/lib/cni/macvlan");
    ASSERT_EQ(ref.r.exit_code, 0) << ref.r.out << ref.r.err;
    json ours = add_ok(ours_ns, c);
    json ref_out = ref.out;
    for (json* r : {&ref_out, &ours}) {
        (*r)["interfaces"][0].erase("mac");
        (*r)["interfaces"][0].erase("sandbox");
        (*r).erase("dns");
    }
    EXPECT_EQ(ours, ref_out);
    json lr = link_in(ref_ns);
    json lo = link_in(ours_ns);
    for (const char* key : {"mtu", "link_index"}) {
        EXPECT_EQ(lo[key], lr[key]) << key;
    }
    // Operstate follows the kernel's link watch, on its own schedule: both end up UP.
    for (const auto* ns : {&ref_ns, &ours_ns}) {
        EXPECT_TRUE(eventually([&] { return link_in(*ns)["operstate"] == "UP"; })) << ns->name;
    }
    EXPECT_EQ(lo["linkinfo"]["info_data"], lr["linkinfo"]["info_data"]);
    EXPECT_EQ(addresses_in(ours_ns), addresses_in(ref_ns));
    EXPECT_EQ(ip_json("-n " + ours_ns.name + " route show"),
              ip_json("-n " + ref_ns.name + " route show"));
}

}  // namespace
}  // namespace sdnet::test
