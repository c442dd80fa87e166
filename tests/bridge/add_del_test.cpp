// ADD and DEL as a user sees them: interfaces, addresses, routes, traffic, nft elements and
// reservations, in private namespaces.
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>

#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"
#include "tests/support/bridge_harness.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/temp_dir.hpp"

namespace sdnet::test {
namespace {

using AddDel = BridgeTest;

std::vector<std::string> addresses(const std::string& ns, const std::string& dev) {
    std::vector<std::string> out;
    std::string where = ns.empty() ? "" : "-n " + ns + " ";
    json links = ip_json(where + "addr show dev " + dev);  // must outlive the loop
    for (const auto& a : links[0]["addr_info"]) {
        if (a["scope"] == "global") {
            out.push_back(a["local"].get<std::string>() + "/" +
                          std::to_string(a["prefixlen"].get<int>()));
        }
    }
    return out;
}

TEST_F(AddDel, TwoContainersReachEachOtherAndTheGateway) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    json conf = unmasqueraded_bridge_conf();
    json r1 = add(c1, conf);
    json r2 = add(c2, conf);

    ASSERT_EQ(r1["interfaces"].size(), 3u);
    EXPECT_EQ(r1["interfaces"][0]["name"], "sdnet0");
    EXPECT_EQ(r1["interfaces"][2]["name"], "eth0");
    EXPECT_EQ(r1["interfaces"][2]["sandbox"], c1.path);
    EXPECT_EQ(r1["ips"][0]["address"], "10.88.10.2/24");
    EXPECT_EQ(r1["ips"][0]["gateway"], "10.88.10.1");
    EXPECT_EQ(r1["ips"][0]["interface"], 2);
    EXPECT_EQ(r1["ips"][1]["address"], "fd88:10::2/64");
    EXPECT_EQ(r2["ips"][0]["address"], "10.88.10.3/24");

    // What the user sees in the kernel.
    EXPECT_EQ(addresses(c1.name, "eth0"),
              (std::vector<std::string>{"10.88.10.2/24", "fd88:10::2/64"}));
    auto mac = ip_json("-n " + c1.name + " link show eth0")[0]["address"];
    EXPECT_EQ(mac, r1["interfaces"][2]["mac"]);
    auto gw = addresses("", "sdnet0");
    EXPECT_NE(std::find(gw.begin(), gw.end(), "10.88.10.1/24"), gw.end());
    auto routes = ip_json("-n " + c1.name + " route show default");
    ASSERT_EQ(routes.size(), 1u);
    EXPECT_EQ(routes[0]["gateway"], "10.88.10.1");
    EXPECT_EQ(bridge_ports("sdnet0").size(), 2u);
    // The host end is a bridge port: no IPv6 link-local address (so no DAD for it and no MLD
    // reports flooded to the other ports). The container end keeps its own.
    std::string host_veth = r1["interfaces"][1]["name"];
    EXPECT_TRUE(ip_json("-6 addr show dev " + host_veth).empty());
    EXPECT_EQ(ip_json("-n " + c1.name + " -6 addr show dev eth0 scope link").size(), 1u);
    EXPECT_EQ(observe("cat /proc/sys/net/ipv4/ip_forward"), "1\n");
    // Set over netlink with the veth, not through /proc/sys.
    EXPECT_EQ(observe("ip netns exec " + c1.name + " cat /proc/sys/net/ipv4/conf/eth0/arp_notify"),
              "1\n");
    EXPECT_EQ(observe("ip netns exec " + c1.name + " cat /proc/sys/net/ipv6/conf/eth0/accept_dad"),
              "0\n");

    EXPECT_TRUE(ping(c1.name, "10.88.10.3"));
    EXPECT_TRUE(ping(c2.name, "10.88.10.2"));
    EXPECT_TRUE(ping(c1.name, "10.88.10.1"));
    EXPECT_TRUE(ping(c1.name, "fd88:10::3"));
}

TEST_F(AddDel, MasqueradeElementsFollowAddAndDel) {
    SDNET_REQUIRE_KERNEL(KernelFeature::Nftables);
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    json conf = bridge_conf();
    add(c1, conf);
    add(c2, conf);
    EXPECT_EQ(nft_elements("sdnet_masq", "masq4"),
              (std::vector<std::string>{"10.88.10.2", "10.88.10.3"}));
    EXPECT_EQ(nft_elements("sdnet_masq", "masq6"),
              (std::vector<std::string>{"fd88:10::2", "fd88:10::3"}));

    auto del = run("DEL", c1, conf);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    EXPECT_EQ(nft_elements("sdnet_masq", "masq4"), (std::vector<std::string>{"10.88.10.3"}));
    EXPECT_EQ(nft_elements("sdnet_masq", "masq6"), (std::vector<std::string>{"fd88:10::3"}));
    EXPECT_EQ(reservations("sdnet-bridge"), (std::vector<std::string>{"10.88.10.3", "fd88:10::3"}));
    EXPECT_EQ(bridge_ports("sdnet0").size(), 1u);
}

TEST_F(AddDel, DelTwiceSucceeds) {
    auto c1 = make_netns("c1");
    json conf = unmasqueraded_bridge_conf();
    add(c1, conf);
    EXPECT_EQ(run("DEL", c1, conf).r.exit_code, 0);
    auto again = run("DEL", c1, conf);
    EXPECT_EQ(again.r.exit_code, 0) << again.r.out;
    EXPECT_TRUE(reservations("sdnet-bridge").empty());
    EXPECT_TRUE(bridge_ports("sdnet0").empty());
}

TEST_F(AddDel, DelAfterTheNetnsIsGoneLeavesNothing) {
    SDNET_REQUIRE_KERNEL(KernelFeature::Nftables);
    auto c1 = make_netns("c1");
    json conf = bridge_conf();
    json result = add(c1, conf);
    ASSERT_TRUE(netlib::remove_named_netns(c1.name));
    c1.ns = netlib::Netns::current();  // drop our handle on the old namespace
    conf["prevResult"] = result;
    auto del = run("DEL", c1, conf);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out << del.r.err;
    EXPECT_TRUE(nft_elements("sdnet_masq", "masq4").empty());
    EXPECT_TRUE(nft_elements("sdnet_masq", "masq6").empty());
    EXPECT_TRUE(reservations("sdnet-bridge").empty());
}

TEST_F(AddDel, DelWithoutPrevResultAfterTheNetnsIsGoneFindsElementsByOwner) {
    SDNET_REQUIRE_KERNEL(KernelFeature::Nftables);
    auto c1 = make_netns("c1");
    json conf = bridge_conf();
    add(c1, conf);
    ASSERT_TRUE(netlib::remove_named_netns(c1.name));
    c1.ns = netlib::Netns::current();
    EXPECT_EQ(run("DEL", c1, conf).r.exit_code, 0);
    EXPECT_TRUE(nft_elements("sdnet_masq", "masq4").empty());
    EXPECT_TRUE(reservations("sdnet-bridge").empty());
}

TEST_F(AddDel, DelWithEmptyNetnsRemovesTheHostVethFromPrevResult) {
    SDNET_REQUIRE_KERNEL(KernelFeature::Nftables);
    auto c1 = make_netns("c1");
    json conf = bridge_conf();
    json result = add(c1, conf);
    conf["prevResult"] = result;
    auto del = run_env({{"CNI_COMMAND", "DEL"},
                        {"CNI_CONTAINERID", "ctr-" + c1.name},
                        {"CNI_NETNS", ""},
                        {"CNI_IFNAME", "eth0"},
                        {"CNI_PATH", plugin_path("")}},
                       conf);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    EXPECT_TRUE(bridge_ports("sdnet0").empty());
    EXPECT_TRUE(nft_elements("sdnet_masq", "masq4").empty());
    EXPECT_TRUE(reservations("sdnet-bridge").empty());
    EXPECT_TRUE(ip_json("-n " + c1.name + " link show type veth").empty());
}

TEST_F(AddDel, CheckPassesAfterAddAndFailsWhenAnAddressIsRemoved) {
    auto c1 = make_netns("c1");
    json conf = unmasqueraded_bridge_conf();
    conf["prevResult"] = add(c1, conf);
    auto ok = run("CHECK", c1, conf);
    EXPECT_EQ(ok.r.exit_code, 0) << ok.r.out << ok.r.err;

    observe("ip -n " + c1.name + " addr del 10.88.10.2/24 dev eth0");
    auto bad = run("CHECK", c1, conf);
    EXPECT_NE(bad.r.exit_code, 0);
    EXPECT_NE(bad.out.value("msg", "").find("10.88.10.2/24"), std::string::npos) << bad.r.out;
}

TEST_F(AddDel, CheckFailsWhenTheMasqueradeElementIsGone) {
    SDNET_REQUIRE_KERNEL(KernelFeature::Nftables);
    auto c1 = make_netns("c1");
    json conf = bridge_conf();
    conf["prevResult"] = add(c1, conf);
    observe("nft delete element inet sdnet_masq masq4 '{ 10.88.10.2 }'");
    auto bad = run("CHECK", c1, conf);
    EXPECT_NE(bad.r.exit_code, 0);
    EXPECT_NE(bad.out.value("msg", "").find("masquerade"), std::string::npos) << bad.r.out;
}

TEST_F(AddDel, ResultsInEveryVersion) {
    for (std::string v : {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
        auto ns = make_netns("v");
        json r = add(ns, unmasqueraded_bridge_conf(v));
        EXPECT_EQ(r["cniVersion"], v);
        EXPECT_EQ(r["ips"][0].contains("version"), v < "1.0.0") << v;
        EXPECT_EQ(r["interfaces"].size(), 3u);
    }
    auto legacy = make_netns("legacy");
    json r = add(legacy, unmasqueraded_bridge_conf("0.2.0"));
    EXPECT_EQ(r["ip4"]["ip"], "10.88.10.7/24");
    EXPECT_EQ(r["ip6"]["ip"], "fd88:10::7/64");
}

TEST_F(AddDel, ConcurrentAddsCreateOneBridgeAndBothSucceed) {
    SDNET_REQUIRE_KERNEL(KernelFeature::Nftables);
    std::vector<TestNetns> nss;
    for (int i = 0; i < 8; ++i) {
        nss.push_back(make_netns("race"));
    }
    json conf = bridge_conf();
    std::vector<Call> calls(nss.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < nss.size(); ++i) {
        threads.emplace_back([&, i] { calls[i] = run("ADD", nss[i], conf); });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (const auto& c : calls) {
        EXPECT_EQ(c.r.exit_code, 0) << c.r.out << c.r.err;
    }
    EXPECT_EQ(bridge_ports("sdnet0").size(), nss.size());
    EXPECT_EQ(reservations("sdnet-bridge").size(), 2 * nss.size());
    EXPECT_EQ(nft_elements("sdnet_masq", "masq4").size(), nss.size());
}

TEST_F(AddDel, BridgeMacStaysPutAsPortsComeAndGo) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    json conf = unmasqueraded_bridge_conf();
    std::string mac1 = add(c1, conf)["interfaces"][0]["mac"];
    std::string mac2 = add(c2, conf)["interfaces"][0]["mac"];
    EXPECT_EQ(mac1, mac2);
    run("DEL", c1, conf);
    EXPECT_EQ(ip_json("link show sdnet0")[0]["address"], mac1);
}

TEST_F(AddDel, IsolatedAndHairpinPortFlags) {
    auto c1 = make_netns("c1");
    json conf = unmasqueraded_bridge_conf();
    conf["portIsolation"] = true;
    json r = add(c1, conf);
    std::string port = r["interfaces"][1]["name"];
    auto info = ip_json("-d link show " + port)[0]["linkinfo"]["info_slave_data"];
    EXPECT_EQ(info["hairpin"], true);
    EXPECT_EQ(info["isolated"], true);
    EXPECT_EQ(info["state"], "forwarding");
}

TEST_F(AddDel, MacspoofchkElementsFollowAddAndDel) {
    SDNET_REQUIRE_KERNEL(KernelFeature::Nftables);
    auto c1 = make_netns("c1");
    json conf = bridge_conf();
    conf["macspoofchk"] = true;
    add(c1, conf);
    auto ruleset = observe("nft list table bridge sdnet_macspoof");
    EXPECT_NE(ruleset.find("ctr-" + c1.name), std::string::npos) << ruleset;
    run("DEL", c1, conf);
    ruleset = observe("nft list table bridge sdnet_macspoof");
    EXPECT_EQ(ruleset.find("ctr-" + c1.name), std::string::npos) << ruleset;
}

TEST_F(AddDel, RequestedMacAndMtu) {
    auto c1 = make_netns("c1");
    json conf = unmasqueraded_bridge_conf();
    conf["mtu"] = 1400;
    conf["runtimeConfig"] = {{"mac", "02:aa:bb:cc:dd:ee"}};
    json r = add(c1, conf);
    EXPECT_EQ(r["interfaces"][2]["mac"], "02:aa:bb:cc:dd:ee");
    auto link = ip_json("-n " + c1.name + " link show eth0")[0];
    EXPECT_EQ(link["address"], "02:aa:bb:cc:dd:ee");
    EXPECT_EQ(link["mtu"], 1400);
}

// A container on two networks (podman network connect, --network a,b): each network's IPAM
// gives a default route. The second one is appended, as the reference does, not refused.
TEST_F(AddDel, SecondInterfaceOnAnotherNetworkAddsItsDefaultRoutes) {
    auto c1 = make_netns("c1");
    json a = unmasqueraded_bridge_conf();
    json b = unmasqueraded_bridge_conf();
    b["name"] = "sdnet-bridge-b";
    b["bridge"] = "sdnet1";
    b["ipam"]["ranges"] =
        json::parse(R"([[{"subnet": "10.88.11.0/24"}], [{"subnet": "fd88:11::/64"}]])");
    a["prevResult"] = add(c1, a, "eth0");
    b["prevResult"] = add(c1, b, "eth1");

    auto v4 = ip_json("-n " + c1.name + " -4 route show default");
    ASSERT_EQ(v4.size(), 2u) << v4.dump();
    EXPECT_EQ(v4[0]["gateway"], "10.88.10.1");
    EXPECT_EQ(v4[0]["dev"], "eth0");
    EXPECT_EQ(v4[1]["gateway"], "10.88.11.1");
    EXPECT_EQ(v4[1]["dev"], "eth1");
    std::string v6 = observe("ip -n " + c1.name + " -6 route show default");
    EXPECT_NE(v6.find("via fd88:10::1 dev eth0"), std::string::npos) << v6;
    EXPECT_NE(v6.find("via fd88:11::1 dev eth1"), std::string::npos) << v6;
    for (const auto& [conf, ifname] : {std::pair{a, "eth0"}, std::pair{b, "eth1"}}) {
        auto check = run("CHECK", c1, conf, ifname);
        EXPECT_EQ(check.r.exit_code, 0) << ifname << ": " << check.r.out << check.r.err;
    }

    auto del = run("DEL", c1, b, "eth1");
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    v4 = ip_json("-n " + c1.name + " -4 route show default");
    ASSERT_EQ(v4.size(), 1u) << v4.dump();
    EXPECT_EQ(v4[0]["dev"], "eth0");
    v6 = observe("ip -n " + c1.name + " -6 route show default");
    EXPECT_NE(v6.find("via fd88:10::1 dev eth0"), std::string::npos) << v6;
    EXPECT_EQ(v6.find("eth1"), std::string::npos) << v6;
}

// A field of this process's /proc/self/status, e.g. "0-1" for Cpus_allowed_list.
std::string own_status(const std::string& key) {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with(key + ":")) {
            auto value = line.find_first_not_of(" \t", key.size() + 1);
            return value == std::string::npos ? "" : line.substr(value);
        }
    }
    return {};
}

// A host-local on CNI_PATH that is not ours is executed, not run in-process, and sees every CPU
// the plugin may use (the IPAM thread starts pinned away from the main thread's CPU).
TEST_F(AddDel, ForeignHostLocalOnCniPathIsExecuted) {
    sdnet::test::TempDir tmp;
    const std::string dir = tmp.str();
    sdnet::test::write_file(
        dir + "/host-local",
        "#!/bin/sh\n"
        "while read -r _; do :; done\n"
        "echo \"$CNI_COMMAND\" >> " +
            dir +
            "/calls\n"
            "while read -r k v; do [ \"$k\" = Cpus_allowed_list: ] && echo \"$v\" >> " +
            dir +
            "/cpus; done < /proc/self/status\n"
            "[ \"$CNI_COMMAND\" = ADD ] && printf '%s' "
            R"('{"cniVersion":"1.0.0","ips":[{"address":"10.88.10.77/24"}]}')"
            "\n"
            "exit 0\n");
    std::filesystem::permissions(dir + "/host-local", std::filesystem::perms::owner_all);
    auto c1 = make_netns("c1");
    json conf = unmasqueraded_bridge_conf();
    std::map<std::string, std::string> env{{"CNI_CONTAINERID", "ctr-" + c1.name},
                                           {"CNI_NETNS", c1.path},
                                           {"CNI_IFNAME", "eth0"},
                                           {"CNI_PATH", dir + ":" + plugin_path("")}};
    env["CNI_COMMAND"] = "ADD";
    auto added = run_env(env, conf);
    ASSERT_EQ(added.r.exit_code, 0) << added.r.out << added.r.err;
    EXPECT_EQ(added.out["ips"][0]["address"], "10.88.10.77/24");
    EXPECT_EQ(addresses(c1.name, "eth0"), (std::vector<std::string>{"10.88.10.77/24"}));
    EXPECT_TRUE(reservations("sdnet-bridge").empty());  // ours was not called

    env["CNI_COMMAND"] = "DEL";
    conf["prevResult"] = added.out;
    auto deleted = run_env(env, conf);
    EXPECT_EQ(deleted.r.exit_code, 0) << deleted.r.out << deleted.r.err;
    EXPECT_EQ(sdnet::test::read_file(dir + "/calls"), "ADD\nDEL\n");
    std::string cpus = own_status("Cpus_allowed_list");
    EXPECT_EQ(sdnet::test::read_file(dir + "/cpus"), cpus + "\n" + cpus + "\n");
}

TEST_F(AddDel, GcRemovesStaleAttachmentsOnly) {
    SDNET_REQUIRE_KERNEL(KernelFeature::Nftables);
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    json conf = bridge_conf("1.1.0");
    add(c1, conf);
    add(c2, conf);
    json gc = conf;
    gc["cni.dev/valid-attachments"] =
        json::array({{{"containerID", "ctr-" + c2.name}, {"ifname", "eth0"}}});
    auto r = run_env({{"CNI_COMMAND", "GC"}, {"CNI_PATH", plugin_path("")}}, gc);
    EXPECT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    EXPECT_EQ(nft_elements("sdnet_masq", "masq4"), (std::vector<std::string>{"10.88.10.3"}));
    EXPECT_EQ(reservations("sdnet-bridge"), (std::vector<std::string>{"10.88.10.3", "fd88:10::3"}));
}

TEST_F(AddDel, StatusReportsExhaustion) {
    json conf = unmasqueraded_bridge_conf("1.1.0");
    auto ok = run_env({{"CNI_COMMAND", "STATUS"}, {"CNI_PATH", plugin_path("")}}, conf);
    EXPECT_EQ(ok.r.exit_code, 0) << ok.r.out;
    conf["ipam"]["ranges"] = json::parse(R"([[{"subnet": "10.88.20.0/30"}]])");
    auto c1 = make_netns("c1");
    add(c1, conf);
    auto full = run_env({{"CNI_COMMAND", "STATUS"}, {"CNI_PATH", plugin_path("")}}, conf);
    EXPECT_NE(full.r.exit_code, 0);
    EXPECT_EQ(full.code(), 50) << full.r.out;
}

}  // namespace
}  // namespace sdnet::test
