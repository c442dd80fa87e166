// The vxlan plugin on three simulated nodes (network namespaces on an underlay bridge), as a
// runtime on each node would call it; kernel state observed with `ip -j`, `bridge -j`, tcpdump.
#include <algorithm>
#include <atomic>
#include <gtest/gtest.h>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "netlib/netns.hpp"
#include "tests/support/eventually.hpp"
#include "tests/vxlan/nodes.hpp"

namespace sdnet::test {
namespace {

constexpr const char* kDevice = "vx-vxbr0";
constexpr const char* kZero = "00:00:00:00:00:00 ";

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

bool reaches(const TestNetns& from, const std::string& addr) {
    return eventually([&] { return ping(from.name, addr); });
}

class VxlanTest : public VxlanNodes {
protected:
    // One container per node, added with `conf(i)`; returns the ADD results.
    template <class Conf>
    std::vector<json> container_per_node(Conf conf) {
        std::vector<json> out;
        for (int i = 0; i < kNodes; ++i) {
            ctrs_.push_back(make_netns(std::string{"c"} + char('a' + i)));
            out.push_back(add_on(i, ctrs_.back(), conf(i)));
        }
        return out;
    }

    // A's container pings B's and C's and opens a TCP connection to each, IPv4 and IPv6.
    void expect_a_reaches_b_and_c(const std::vector<json>& results) {
        for (int to : {1, 2}) {
            for (int family : {4, 6}) {
                std::string addr = address(results[to], family);
                EXPECT_TRUE(reaches(ctrs_[0], addr)) << "A cannot ping " << addr;
                EXPECT_EQ(tcp_exchange(ctrs_[to], ctrs_[0], addr), "hello") << addr;
            }
        }
    }

    std::vector<TestNetns> ctrs_;
};

TEST_F(VxlanTest, L2ModeJoinsContainersOnThreeNodesIntoOneSubnet) {
    auto results = container_per_node([this](int i) { return l2_conf(i); });
    ASSERT_FALSE(HasFailure());
    const json& a = results[0];
    EXPECT_EQ(a["ips"][0]["address"], "10.90.0.10/24");
    EXPECT_EQ(a["ips"][1]["address"], "fd90::10/64");
    ASSERT_EQ(a["interfaces"].size(), 4U);  // bridge, host veth, eth0, then the VXLAN device
    EXPECT_EQ(a["interfaces"][0]["name"], "vxbr0");
    EXPECT_EQ(a["interfaces"][3]["name"], kDevice);
    EXPECT_EQ(results[1]["ips"][0]["address"], "10.90.0.20/24");

    // Node A's device: the network's VNI and port over ul0, a port of the bridge, the underlay's
    // MTU minus 50; head-end replication to B and C, not to itself.
    json dev = ip_on(0, "-d link show " + std::string{kDevice})[0];
    EXPECT_EQ(dev["linkinfo"]["info_data"]["id"], kVni);
    EXPECT_EQ(dev["linkinfo"]["info_data"]["port"], 4789);
    EXPECT_EQ(dev["linkinfo"]["info_data"]["link"], "ul0");
    EXPECT_EQ(dev["linkinfo"]["info_data"]["learning"], true);
    EXPECT_EQ(dev["linkinfo"]["info_data"]["df"], "set");
    EXPECT_EQ(dev["master"], "vxbr0");
    EXPECT_EQ(dev["mtu"], 1450);
    EXPECT_EQ(ip_on(0, "link show dev vxbr0")[0]["mtu"], 1450);
    EXPECT_EQ(ip_json("-n " + ctrs_[0].name + " link show dev eth0")[0]["mtu"], 1450);
    EXPECT_EQ(fdb_on(0, kDevice), (std::vector<std::string>{std::string{kZero} + underlay4(1),
                                                            std::string{kZero} + underlay4(2)}));

    expect_a_reaches_b_and_c(results);
}

TEST_F(VxlanTest, TheUnderlayCarriesUdpToTheVxlanPort) {
    auto results = container_per_node([this](int i) { return l2_conf(i); });
    ASSERT_FALSE(HasFailure());
    std::string b = address(results[1], 4);
    std::atomic<bool> captured{false};
    std::string line;
    std::thread dump([&] {
        line = observe("timeout 60 tcpdump -i ul -n -l -c 1 'udp dst port 4789 and src host " +
                       underlay4(0) + " and dst host " + underlay4(1) + "' 2>/dev/null || true");
        captured = true;
    });
    EXPECT_TRUE(eventually([&] {
        (void)ping(ctrs_[0].name, b);
        return captured.load();
    }));
    dump.join();
    EXPECT_NE(line.find(underlay4(0)), std::string::npos) << line;
    EXPECT_NE(line.find("VXLAN"), std::string::npos) << line;
    EXPECT_NE(line.find("vni " + std::to_string(kVni)), std::string::npos) << line;
}

TEST_F(VxlanTest, APacketOfTheContainerMtuWithDfPassesOneByteMoreDoesNot) {
    auto results = container_per_node([this](int i) { return l2_conf(i); });
    ASSERT_FALSE(HasFailure());
    std::string b = address(results[1], 4);
    ASSERT_TRUE(reaches(ctrs_[0], b));
    auto df_ping = [&](int payload) {
        std::string cmd = "ip netns exec " + ctrs_[0].name + " ping -c1 -W2 -M do -s " +
                          std::to_string(payload) + " " + b + " >/dev/null 2>&1";
        return std::system(cmd.c_str()) == 0;  // NOLINT(concurrency-mt-unsafe): test observer
    };
    EXPECT_TRUE(df_ping(1450 - 28));   // 1450 bytes of IPv4: the container MTU
    EXPECT_FALSE(df_ping(1450 - 27));  // 1451
}

TEST_F(VxlanTest, AnIpv6UnderlayCarriesBothFamilies) {
    auto results = container_per_node([this](int i) { return l2_conf(i, true); });
    ASSERT_FALSE(HasFailure());
    EXPECT_EQ(ip_on(0, std::string{"link show dev "} + kDevice)[0]["mtu"], 1430);
    EXPECT_EQ(fdb_on(0, kDevice), (std::vector<std::string>{std::string{kZero} + underlay6(1),
                                                            std::string{kZero} + underlay6(2)}));
    for (int family : {4, 6}) {
        EXPECT_TRUE(reaches(ctrs_[0], address(results[2], family)));
    }
}

TEST_F(VxlanTest, L2PeersConvergeWhenAPeerIsRemovedAndAdded) {
    auto results = container_per_node([this](int i) { return l2_conf(i); });
    ASSERT_FALSE(HasFailure());
    std::string b = address(results[1], 4);
    std::string c = address(results[2], 4);
    ASSERT_TRUE(reaches(ctrs_[0], c));  // A has learnt C's MAC by now

    // C leaves the overlay: it goes first (its own list no longer names A or B, so it sends
    // nothing to them), then A and B drop it. With learning on, a node that kept sending to A
    // would be learnt again; converging also forgets what A learnt behind C.
    std::vector<TestNetns> more;
    for (int i : {2, 0, 1}) {
        json without_c = l2_conf(i);
        without_c["peers"] = i == 2 ? json{underlay4(2)} : json{underlay4(0), underlay4(1)};
        more.push_back(make_netns("more"));
        add_on(i, more.back(), without_c);
    }
    EXPECT_EQ(fdb_on(0, kDevice), (std::vector<std::string>{std::string{kZero} + underlay4(1)}));
    EXPECT_TRUE(fdb_on(2, kDevice).empty());
    // Nor a learnt entry: A's unicast to C's MAC would still go to C.
    EXPECT_EQ(observe_on(0, std::string{"bridge fdb show dev "} + kDevice).find(underlay4(2)),
              std::string::npos);
    EXPECT_FALSE(ping(ctrs_[0].name, c));
    EXPECT_TRUE(reaches(ctrs_[0], b));

    for (int i = 0; i < kNodes; ++i) {  // C back in
        more.push_back(make_netns("back"));
        add_on(i, more.back(), l2_conf(i));
    }
    EXPECT_EQ(fdb_on(0, kDevice), (std::vector<std::string>{std::string{kZero} + underlay4(1),
                                                            std::string{kZero} + underlay4(2)}));
    EXPECT_TRUE(reaches(ctrs_[0], c));
}

TEST_F(VxlanTest, RoutedModeRoutesEachNodesSubnetWithoutFlooding) {
    auto results = container_per_node([this](int i) { return routed_conf(i); });
    ASSERT_FALSE(HasFailure());
    EXPECT_EQ(results[0]["ips"][0]["address"], "10.91.1.2/24");
    EXPECT_EQ(results[1]["ips"][0]["address"], "10.91.2.2/24");

    json dev = ip_on(0, "-d link show " + std::string{kDevice})[0];
    EXPECT_EQ(dev["linkinfo"]["info_data"]["learning"], false);
    EXPECT_FALSE(dev.contains("master"));  // the node routes between bridge and overlay
    std::string mac_b = ip_on(1, "link show " + std::string{kDevice})[0]["address"];
    std::string mac_c = ip_on(2, "link show " + std::string{kDevice})[0]["address"];
    // Node A knows B's and C's endpoints without asking: FDB, neighbours, routes; no all-zero
    // entry, so nothing floods.
    EXPECT_EQ(fdb_on(0, kDevice),
              (std::vector<std::string>{mac_b + " " + underlay4(1), mac_c + " " + underlay4(2)}));
    json n = ip_on(0, "neigh show dev " + std::string{kDevice} + " 10.91.2.0");
    ASSERT_EQ(n.size(), 1U);
    EXPECT_EQ(n[0]["lladdr"], mac_b);
    json n6 = ip_on(0, "-6 neigh show dev " + std::string{kDevice} + " fd91:3::");
    ASSERT_EQ(n6.size(), 1U);
    EXPECT_EQ(n6[0]["lladdr"], mac_c);
    json r = ip_on(0, "route show 10.91.2.0/24");
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0]["gateway"], "10.91.2.0");
    EXPECT_EQ(r[0]["dev"], kDevice);
    EXPECT_EQ(r[0]["flags"], json::array({"onlink"}));
    EXPECT_EQ(ip_on(0, "-6 route show fd91:3::/64").size(), 1U);

    expect_a_reaches_b_and_c(results);
}

TEST_F(VxlanTest, RoutedModeOverAnIpv6Underlay) {
    auto results = container_per_node([this](int i) { return routed_conf(i, true); });
    ASSERT_FALSE(HasFailure());
    EXPECT_EQ(ip_on(0, std::string{"link show dev "} + kDevice)[0]["mtu"], 1430);
    std::string mac_c = ip_on(2, "link show " + std::string{kDevice})[0]["address"];
    EXPECT_TRUE(contains(fdb_on(0, kDevice), mac_c + " " + underlay6(2)));
    for (int family : {4, 6}) {
        EXPECT_TRUE(reaches(ctrs_[0], address(results[2], family)));
    }
}

TEST_F(VxlanTest, RoutedPeersConvergeWhenAPeerIsRemoved) {
    auto results = container_per_node([this](int i) { return routed_conf(i); });
    ASSERT_FALSE(HasFailure());
    std::string b = address(results[1], 4);
    std::string c = address(results[2], 4);
    ASSERT_TRUE(reaches(ctrs_[0], c));

    json without_c = routed_conf(0);
    without_c["peers"].erase(2);
    auto other = make_netns("a2");
    add_on(0, other, without_c);
    EXPECT_TRUE(ip_on(0, "route show 10.91.3.0/24").empty());
    EXPECT_TRUE(ip_on(0, "-6 route show fd91:3::/64").empty());
    EXPECT_TRUE(ip_on(0, "neigh show dev " + std::string{kDevice} + " 10.91.3.0").empty());
    EXPECT_EQ(fdb_on(0, kDevice).size(), 1U);
    EXPECT_FALSE(ping(ctrs_[0].name, c));
    EXPECT_TRUE(reaches(ctrs_[0], b));
}

TEST_F(VxlanTest, SixteenConcurrentAddsOnOneNode) {
    constexpr int kAdds = 16;
    std::vector<TestNetns> ctrs;
    for (int k = 0; k < kAdds; ++k) {
        ctrs.push_back(make_netns("p" + std::to_string(k)));
    }
    std::vector<Call> calls(kAdds);
    std::vector<std::thread> threads;
    for (int k = 0; k < kAdds; ++k) {
        threads.emplace_back([&, k] { calls[k] = on_node(0, "ADD", ctrs[k], routed_conf(0)); });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::set<std::string> addresses;
    for (const auto& c : calls) {
        ASSERT_EQ(c.r.exit_code, 0) << c.r.out << c.r.err;
        addresses.insert(address(c.out, 4));
    }
    EXPECT_EQ(addresses.size(), static_cast<std::size_t>(kAdds));
    EXPECT_EQ(fdb_on(0, kDevice).size(), 2U);  // B and C, once each
    EXPECT_EQ(ip_on(0, "route show dev " + std::string{kDevice}).size(), 2U);
    EXPECT_EQ(ip_on(0, "link show master vxbr0").size(), static_cast<std::size_t>(kAdds));
}

TEST_F(VxlanTest, NothingIsLeftAfterDelAndGcOnEveryNode) {
    auto l2 = container_per_node([this](int i) { return l2_conf(i); });
    ASSERT_FALSE(HasFailure());
    for (int i = 0; i < kNodes; ++i) {
        EXPECT_FALSE(extra_links_on(i).empty());
        EXPECT_EQ(reservations_on(i).size(), 2U);
        auto del = on_node(i, "DEL", ctrs_[i], l2_conf(i));
        EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
        EXPECT_TRUE(reservations_on(i).empty());
        // DEL leaves the network's shared part; GC, told no attachment lives, removes it.
        EXPECT_EQ(extra_links_on(i), (std::vector<std::string>{"vxbr0", kDevice}));
        auto gc = gc_on(i, l2_conf(i), {});
        EXPECT_EQ(gc.r.exit_code, 0) << gc.r.out;
        EXPECT_TRUE(extra_links_on(i).empty()) << i;
        EXPECT_TRUE(ip_on(i, "route show dev ul0 table all").size() > 0);
    }

    // Routed mode too: the routes through the device go with it.
    ctrs_.clear();
    auto routed = container_per_node([this](int i) { return routed_conf(i); });
    ASSERT_FALSE(HasFailure());
    for (int i = 0; i < kNodes; ++i) {
        EXPECT_EQ(on_node(i, "DEL", ctrs_[i], routed_conf(i)).r.exit_code, 0);
        // A GC that lists a live attachment keeps the network.
        EXPECT_EQ(gc_on(i, routed_conf(i), {&ctrs_[i]}).r.exit_code, 0);
        EXPECT_EQ(extra_links_on(i).size(), 2U);
        EXPECT_EQ(gc_on(i, routed_conf(i), {}).r.exit_code, 0);
        EXPECT_TRUE(extra_links_on(i).empty()) << i;
        EXPECT_TRUE(ip_on(i, "route show 10.91.0.0/16").empty());
        EXPECT_TRUE(reservations_on(i).empty());
    }
}

TEST_F(VxlanTest, DelIsIdempotentAndWorksWithoutTheContainerNetns) {
    auto gone = make_netns("gone");
    auto kept = make_netns("kept");
    add_on(0, gone, l2_conf(0));
    add_on(0, kept, l2_conf(0));
    ASSERT_EQ(reservations_on(0).size(), 4U);
    // The container's namespace is gone: its file, and the last handle on it.
    netlib::remove_named_netns(gone.name);
    { netlib::Netns last = std::move(gone.ns); }
    EXPECT_EQ(on_node(0, "DEL", gone, l2_conf(0)).r.exit_code, 0);
    EXPECT_EQ(on_node(0, "DEL", gone, l2_conf(0)).r.exit_code, 0);
    EXPECT_EQ(reservations_on(0).size(), 2U);  // kept's two addresses
    EXPECT_EQ(on_node(0, "DEL", kept, l2_conf(0)).r.exit_code, 0);
    EXPECT_EQ(on_node(0, "DEL", kept, l2_conf(0)).r.exit_code, 0);
    EXPECT_TRUE(reservations_on(0).empty());
    // The kernel removes the gone namespace's veth on its own schedule.
    EXPECT_TRUE(eventually([&] { return ip_on(0, "link show master vxbr0").size() == 1U; }));
}

TEST_F(VxlanTest, BadInputIsRefusedByNameAndCreatesNothing) {
    auto ctr = make_netns("bad");
    auto refused = [&](json conf, const std::string& words) {
        auto c = on_node(0, "ADD", ctr, conf);
        EXPECT_EQ(c.code(), 7) << c.r.out << c.r.err;
        EXPECT_NE(c.out.value("msg", "").find(words), std::string::npos)
            << c.out.value("msg", "") << " lacks " << words;
        EXPECT_TRUE(extra_links_on(0).empty());
        EXPECT_TRUE(reservations_on(0).empty());
    };
    json c = l2_conf(0);
    c["vni"] = 0;
    refused(c, "\"vni\"");
    c["vni"] = 16777216;
    refused(c, "\"vni\"");
    c = l2_conf(0);
    c["peers"] = {underlay4(1), "not-an-address"};
    refused(c, "\"peers\"[1]");
    c = l2_conf(0);
    c["local"] = "192.168.50.99";
    refused(c, "\"local\" 192.168.50.99 is not an address of this host");
    c = routed_conf(0);
    c["peers"][2]["subnets"] = {"10.91.2.128/25"};
    refused(c, "overlaps 10.91.2.0/24");
    c = routed_conf(0);
    c["peers"][1]["subnets"] = {"10.91.1.0/25"};
    refused(c, "overlaps 10.91.1.0/24 of this node's IPAM");
}

TEST_F(VxlanTest, ASecondAddWithAnotherVniOrPortIsRefused) {
    auto first = make_netns("first");
    add_on(0, first, l2_conf(0));
    auto second = make_netns("second");
    for (auto [key, value] : {std::pair{"vni", 4243}, std::pair{"port", 8472}}) {
        json c = l2_conf(0);
        c[key] = value;
        auto r = on_node(0, "ADD", second, c);
        EXPECT_EQ(r.code(), 7) << r.r.out;
        std::string msg = r.out.value("msg", "");
        EXPECT_NE(msg.find("VXLAN device \"vx-vxbr0\" of network \"vxbr0\" has VNI 4242 port 4789"),
                  std::string::npos)
            << msg;
        EXPECT_TRUE(ip_json("-n " + second.name + " link show").size() == 1U);  // lo only
    }
}

TEST_F(VxlanTest, CheckVerifiesTheDeviceAndItsEntries) {
    auto ctr = make_netns("chk");
    for (auto conf : {l2_conf(0), routed_conf(0)}) {
        json added = add_on(0, ctr, conf);
        conf["prevResult"] = added;
        auto ok = on_node(0, "CHECK", ctr, conf);
        EXPECT_EQ(ok.r.exit_code, 0) << ok.r.out;

        if (!conf.contains("mode")) {  // L2: a remote the configuration does not list
            observe_on(0, "bridge fdb append 00:00:00:00:00:00 dev vx-vxbr0 dst 192.168.50.99");
            auto extra = on_node(0, "CHECK", ctr, conf);
            EXPECT_NE(extra.r.out.find("FDB remotes of peers not in"), std::string::npos)
                << extra.r.out;
        }

        observe_on(0, "sh -c 'bridge fdb del 00:00:00:00:00:00 dev vx-vxbr0 dst " + underlay4(1) +
                          " 2>/dev/null; ip route del 10.91.2.0/24 2>/dev/null; true'");
        auto bad = on_node(0, "CHECK", ctr, conf);
        EXPECT_NE(bad.r.exit_code, 0);
        std::string msg = bad.out.value("msg", "");
        EXPECT_TRUE(msg.find("FDB entry") != std::string::npos ||
                    msg.find("route to 10.91.2.0/24") != std::string::npos)
            << msg;
        EXPECT_EQ(on_node(0, "DEL", ctr, conf).r.exit_code, 0);
        EXPECT_EQ(gc_on(0, conf, {}).r.exit_code, 0);
    }
}

TEST_F(VxlanTest, AMulticastGroupFloodsInsteadOfPeers) {
    auto results = container_per_node([this](int i) {
        json c = l2_conf(i);
        c.erase("peers");
        c["group"] = "239.1.1.42";
        return c;
    });
    ASSERT_FALSE(HasFailure());
    json dev = ip_on(0, "-d link show " + std::string{kDevice})[0];
    EXPECT_EQ(dev["linkinfo"]["info_data"]["group"], "239.1.1.42");
    EXPECT_TRUE(reaches(ctrs_[0], address(results[1], 4)));
    EXPECT_TRUE(reaches(ctrs_[0], address(results[2], 6)));
}

TEST_F(VxlanTest, StatusReportsAMissingUnderlay) {
    auto ctr = make_netns("st");
    json c = l2_conf(0);
    c["cniVersion"] = "1.1.0";
    c["dev"] = "nope0";
    auto r = on_node(0, "STATUS", ctr, c);
    EXPECT_EQ(r.code(), 50) << r.r.out;
    c["dev"] = "ul0";
    EXPECT_EQ(on_node(0, "STATUS", ctr, c).r.exit_code, 0);
}

}  // namespace
}  // namespace sdnet::test
