#include "tests/vxlan/nodes.hpp"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "netlib/addr.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"

namespace sdnet::test {

void VxlanNodes::SetUp() {
    BridgeTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
        return;
    }
    auto sock = netlib::RouteSocket::open();
    auto ul = netlib::ensure_bridge(sock, {"ul", {}, false, {}});
    for (int i = 0; i < kNodes; ++i) {
        nodes_.push_back(make_netns(std::string{"node"} + char('a' + i)));
        netlib::VethSpec spec{"ulp" + std::to_string(i),
                              "ul0",
                              &nodes_.back().ns,
                              std::nullopt,
                              std::nullopt,
                              ul.index,
                              true,
                              nullptr};
        (void)netlib::create_veth(sock, spec);
        auto node = netlib::RouteSocket::open_in(nodes_.back().ns);
        netlib::set_up(node, 1, true);  // lo
        int ul0 = netlib::find_link(node, "ul0").value().index;
        netlib::add_address(node, ul0, netlib::IpNet::parse(underlay4(i) + "/24"));
        netlib::add_address(node, ul0, netlib::IpNet::parse(underlay6(i) + "/64"), {.nodad = true});
    }
}

json VxlanNodes::l2_conf(int i, bool v6_underlay) const {
    json peers = json::array();
    for (int j = 0; j < kNodes; ++j) {
        peers.push_back(v6_underlay ? underlay6(j) : underlay4(j));
    }
    std::string first = std::to_string(10 * i + 10);
    std::string last = std::to_string(10 * i + 19);
    std::string gw = std::to_string(i + 1);
    return {{"cniVersion", "1.0.0"},
            {"name", kNetwork},
            {"type", "vxlan"},
            {"vni", kVni},
            {"dev", "ul0"},
            {"peers", peers},
            {"isGateway", true},
            {"ipam",
             {{"type", "host-local"},
              {"dataDir", "/var/lib/cni/node" + std::to_string(i)},
              {"ranges",
               {{{{"subnet", "10.90.0.0/24"},
                  {"rangeStart", "10.90.0." + first},
                  {"rangeEnd", "10.90.0." + last},
                  {"gateway", "10.90.0." + gw}}},
                {{{"subnet", "fd90::/64"},
                  {"rangeStart", "fd90::" + first},
                  {"rangeEnd", "fd90::" + last},
                  {"gateway", "fd90::" + gw}}}}}}}};
}

json VxlanNodes::routed_conf(int i, bool v6_underlay) const {
    json peers = json::array();
    for (int j = 0; j < kNodes; ++j) {
        std::string n = std::to_string(j + 1);
        peers.push_back({{"address", v6_underlay ? underlay6(j) : underlay4(j)},
                         {"subnets", {"10.91." + n + ".0/24", "fd91:" + n + "::/64"}}});
    }
    std::string n = std::to_string(i + 1);
    return {{"cniVersion", "1.0.0"},
            {"name", kNetwork},
            {"type", "vxlan"},
            {"mode", "routed"},
            {"vni", kVni},
            {"local", v6_underlay ? underlay6(i) : underlay4(i)},
            {"peers", peers},
            {"isDefaultGateway", true},
            {"ipam",
             {{"type", "host-local"},
              {"dataDir", "/var/lib/cni/node" + std::to_string(i)},
              {"ranges",
               {{{{"subnet", "10.91." + n + ".0/24"}}}, {{{"subnet", "fd91:" + n + "::/64"}}}}}}}};
}

BridgeTest::Call VxlanNodes::on_node(int i, const std::string& command, const TestNetns& ctr,
                                     const json& conf, const std::string& ifname) {
    Call c;
    // A thread enters the node, so that the plugin it forks starts there.
    std::thread t([&] {
        netlib::NetnsGuard in(nodes_[i].ns);
        c = run_env({{"CNI_COMMAND", command},
                     {"CNI_CONTAINERID", "ctr-" + ctr.name},
                     {"CNI_NETNS", ctr.path},
                     {"CNI_IFNAME", ifname},
                     {"CNI_PATH", plugin_path("")}},
                    conf, plugin_path("vxlan"));
    });
    t.join();
    return c;
}

json VxlanNodes::add_on(int i, const TestNetns& ctr, const json& conf) {
    auto c = on_node(i, "ADD", ctr, conf);
    EXPECT_EQ(c.r.exit_code, 0) << "node " << i << ": " << c.r.out << c.r.err;
    return c.out;
}

BridgeTest::Call VxlanNodes::gc_on(int i, json conf, const std::vector<const TestNetns*>& live) {
    conf["cniVersion"] = "1.1.0";
    json list = json::array();
    for (const auto* ctr : live) {
        list.push_back({{"containerID", "ctr-" + ctr->name}, {"ifname", "eth0"}});
    }
    conf["cni.dev/valid-attachments"] = list;
    Call c;
    std::thread t([&] {
        netlib::NetnsGuard in(nodes_[i].ns);
        c = run_env({{"CNI_COMMAND", "GC"}, {"CNI_PATH", plugin_path("")}}, conf,
                    plugin_path("vxlan"));
    });
    t.join();
    return c;
}

std::string VxlanNodes::address(const json& result, int family) {
    for (const auto& ip : result["ips"]) {
        std::string a = ip["address"];
        if ((a.find(':') != std::string::npos) == (family == 6)) {
            return a.substr(0, a.find('/'));
        }
    }
    ADD_FAILURE() << "no IPv" << family << " address in " << result.dump();
    return "";
}

std::string VxlanNodes::observe_on(int i, const std::string& cmd) {
    return observe("ip netns exec " + nodes_[i].name + " " + cmd);
}

json VxlanNodes::ip_on(int i, const std::string& args) {
    return json::parse(observe("ip -n " + nodes_[i].name + " -j " + args));
}

std::vector<std::string> VxlanNodes::fdb_on(int i, const std::string& dev) {
    std::vector<std::string> out;
    for (const auto& e : json::parse(observe_on(i, "bridge -j fdb show dev " + dev))) {
        if (e.contains("dst") && e.value("state", "") == "permanent") {
            out.push_back(e["mac"].get<std::string>() + " " + e["dst"].get<std::string>());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> VxlanNodes::extra_links_on(int i) {
    std::vector<std::string> out;
    for (const auto& l : ip_on(i, "link show")) {
        if (l["ifname"] != "lo" && l["ifname"] != "ul0") {
            out.push_back(l["ifname"]);
        }
    }
    return out;
}

std::vector<std::string> VxlanNodes::reservations_on(int i) {
    std::vector<std::string> out;
    std::error_code ec;
    std::string dir = "/var/lib/cni/node" + std::to_string(i) + "/" + kNetwork;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        std::string name = e.path().filename();
        if (name != "lock" && !name.starts_with("last_reserved_ip") && !name.starts_with(".")) {
            out.push_back(name);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string VxlanNodes::tcp_exchange(const TestNetns& server, const TestNetns& client,
                                     const std::string& addr) {
    const std::string family = addr.find(':') != std::string::npos ? "AF_INET6" : "AF_INET";
    // The server answers one connection; the client retries until it listens (at most 60 s).
    std::thread srv([&] {
        observe("ip netns exec " + server.name +
                " timeout 60 python3 -c 'import socket; s = "
                "socket.socket(socket." +
                family +
                "); s.setsockopt(socket.SOL_SOCKET, "
                "socket.SO_REUSEADDR, 1); s.bind((\"\", 5000)); s.listen(); c, _ = s.accept(); "
                "c.sendall(b\"hello\"); c.close()' >/dev/null 2>&1 || true");
    });
    std::string got = observe("ip netns exec " + client.name +
                              " timeout 60 python3 -c 'import socket, time, sys\n"
                              "for _ in range(600):\n"
                              "    try:\n"
                              "        c = socket.create_connection((\"" +
                              addr +
                              "\", 5000), timeout=2)\n"
                              "        print(c.recv(5).decode()); sys.exit(0)\n"
                              "    except OSError:\n"
                              "        time.sleep(0.1)\n' || true");
    srv.join();
    return got.substr(0, got.find('\n'));
}

}  // namespace sdnet::test
