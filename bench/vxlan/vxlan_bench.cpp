// The vxlan plugin's cost, in one run, inside private namespaces (the machine's network is never
// touched):
//
//   sudo build/release/bench/vxlan/vxlan_bench [cycles=100] [seconds=5]
//
// 1. ADD/DEL latency of vxlan (L2 mode, two peers) against bridge (same IPAM, same node), cycle
//    by cycle alternating: the overlay's share of an ADD.
// 2. Two nodes (network namespaces on an underlay bridge, veths of MTU 1500): TCP throughput
//    (iperf3) and round-trip time (ping) from a container on node A to one on node B through the
//    overlay, in L2 and routed mode, against two containers on node A's bridge (alternated, three
//    rounds each, medians).
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/latency.hpp"
#include "netlib/addr.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/cni/exec.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int kNodes = 2;

std::string node_name(int i) {
    return "node" + std::to_string(i);
}

std::string underlay(int i) {
    return "192.168.60.1" + std::to_string(i);
}

json ipam(int node, const std::string& subnet) {
    return {{"type", "host-local"},
            {"dataDir", "/var/lib/cni/" + node_name(node)},
            {"ranges", {{{{"subnet", subnet}}}}}};
}

// L2: one subnet, each node its own range and gateway.
json l2_conf(int node) {
    json range = {{"subnet", "10.90.0.0/24"},
                  {"rangeStart", "10.90.0." + std::to_string(10 * node + 10)},
                  {"rangeEnd", "10.90.0." + std::to_string(10 * node + 99)},
                  {"gateway", "10.90.0." + std::to_string(node + 1)}};
    json c = {{"cniVersion", "1.0.0"}, {"name", "vxl2"},   {"type", "vxlan"}, {"vni", 100},
              {"dev", "ul0"},          {"isGateway", true}};
    c["peers"] = {underlay(0), underlay(1)};
    c["ipam"] = ipam(node, "10.90.0.0/24");
    c["ipam"]["ranges"] = {{range}};
    return c;
}

json routed_conf(int node) {
    json peers = json::array();
    for (int j = 0; j < kNodes; ++j) {
        peers.push_back(
            {{"address", underlay(j)}, {"subnets", {"10.91." + std::to_string(j) + ".0/24"}}});
    }
    return {{"cniVersion", "1.0.0"},
            {"name", "vxrt"},
            {"type", "vxlan"},
            {"mode", "routed"},
            {"vni", 200},
            {"bridge", "vxrt0"},
            {"local", underlay(node)},
            {"peers", peers},
            {"isDefaultGateway", true},
            {"ipam", ipam(node, "10.91." + std::to_string(node) + ".0/24")}};
}

json bridge_conf(int node) {
    return {{"cniVersion", "1.0.0"}, {"name", "br"},      {"type", "bridge"},
            {"bridge", "benchbr"},   {"isGateway", true}, {"ipam", ipam(node, "10.92.0.0/24")}};
}

// One plugin call made on node `node` (the forked plugin starts in this thread's namespace).
double call(const netlib::Netns& node, cni::Command cmd, const std::string& ctr, const json& conf,
            json& result) {
    netlib::NetnsGuard in(node);
    auto envp =
        cni::plugin_environment({cmd, ctr, "/run/netns/" + ctr, "eth0", "", SDNET_PLUGIN_DIR});
    json input = conf;
    if (cmd == cni::Command::Del) {
        input["prevResult"] = result;
    }
    auto t0 = Clock::now();
    json out = cni::exec_plugin(
        std::string{SDNET_PLUGIN_DIR} + "/" + conf["type"].get<std::string>(), envp, input.dump());
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (cmd == cni::Command::Add) {
        result = out;
    }
    return ms;
}

std::string run(const std::string& cmd) {
    std::string out;
    std::FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) {
        out.append(buf, n);
    }
    (void)::pclose(p);
    return out;
}

std::string address_of(const json& result) {
    std::string a = result["ips"][0]["address"];
    return a.substr(0, a.find('/'));
}

struct Traffic {
    double gbits = 0;
    double rtt_ms = 0;
};

// iperf3 from `client` to `server` for `seconds`, then 200 pings at 10 ms intervals.
Traffic measure(const std::string& client, const std::string& server, const std::string& addr,
                int seconds) {
    Traffic t;
    std::thread srv(
        [&] { (void)run("ip netns exec " + server + " iperf3 -s -1 >/dev/null 2>&1"); });
    for (int attempt = 0; attempt < 100 && t.gbits == 0; ++attempt) {
        std::string out = run("ip netns exec " + client + " iperf3 -J -c " + addr + " -t " +
                              std::to_string(seconds) + " 2>/dev/null");
        json j = json::parse(out, nullptr, false);
        if (j.is_object() && j.contains("end") && !j.contains("error")) {
            t.gbits = j["end"]["sum_received"]["bits_per_second"].get<double>() / 1e9;
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));  // server not up yet
        }
    }
    srv.join();
    std::string ping = run("ip netns exec " + client + " ping -q -c 200 -i 0.01 " + addr);
    // "rtt min/avg/max/mdev = 0.031/0.045/0.101/0.010 ms"
    if (auto at = ping.find(" = "); at != std::string::npos) {
        std::sscanf(ping.c_str() + at + 3, "%*f/%lf", &t.rtt_ms);
    }
    return t;
}

// Three nodes on an underlay bridge "ul", each with its underlay address on "ul0".
std::vector<netlib::Netns> make_nodes(netlib::RouteSocket& host) {
    netlib::set_up(host, 1, true);
    auto ul = netlib::ensure_bridge(host, {"ul", {}, false, {}});
    std::vector<netlib::Netns> nodes;
    for (int i = 0; i < kNodes; ++i) {
        std::string path = netlib::create_named_netns(node_name(i));
        nodes.push_back(netlib::Netns::open(path));
        netlib::VethSpec spec{"ulp" + std::to_string(i),
                              "ul0",
                              &nodes.back(),
                              std::nullopt,
                              std::nullopt,
                              ul.index,
                              true,
                              nullptr};
        (void)netlib::create_veth(host, spec);
        auto node = netlib::RouteSocket::open_in(nodes.back());
        netlib::set_up(node, 1, true);
        int ul0 = netlib::find_link(node, "ul0").value().index;
        netlib::add_address(node, ul0, netlib::IpNet::parse(underlay(i) + "/24"));
    }
    return nodes;
}

// ADD/DEL latency on node 0; the overlay already exists (as for every ADD but a network's first
// on a node), made by a container that stays.
void add_del_latency(std::vector<netlib::Netns>& nodes, int cycles) {
    json keep;
    (void)netlib::create_named_netns("keep");
    (void)call(nodes[0], cni::Command::Add, "keep", l2_conf(0), keep);
    std::vector<bench::Plugin> plugins{{"vxlan", "vxlan"}, {"bridge", "bridge"}};
    std::vector<bench::Cycle> c(plugins.size());
    for (int i = 0; i < cycles; ++i) {
        for (std::size_t k = 0; k < plugins.size(); ++k) {
            std::size_t p = (k + static_cast<std::size_t>(i)) % plugins.size();
            std::string id = "cyc" + std::to_string(p) + "-" + std::to_string(i);
            (void)netlib::create_named_netns(id);
            json conf = p == 0 ? l2_conf(0) : bridge_conf(0);
            json result;
            c[p].add.push_back(call(nodes[0], cni::Command::Add, id, conf, result));
            c[p].del.push_back(call(nodes[0], cni::Command::Del, id, conf, result));
            netlib::remove_named_netns(id);
        }
    }
    std::string title = "== vxlan (L2, 2 peers) vs bridge, + host-local, ADD/DEL, " +
                        std::to_string(cycles) + " cycles on one node";
    bench::print_cycles(title.c_str(), plugins, c);
}

struct Case {
    const char* label;
    json (*conf)(int);
};

// Traffic of one overlay mode: containers a and a2 on node 0, b on node 1; same-node and
// cross-node alternated, three rounds, medians (the machine's other load hits both alike).
void traffic(std::vector<netlib::Netns>& nodes, const Case& k, int seconds) {
    std::string tag = k.conf == l2_conf ? "l2" : "rt";
    json a, a2, b;
    for (auto [id, node, out] : {std::tuple{"a", 0, &a}, {"a2", 0, &a2}, {"b", 1, &b}}) {
        std::string name = tag + id;
        (void)netlib::create_named_netns(name);
        (void)call(nodes[node], cni::Command::Add, name, k.conf(node), *out);
    }
    std::vector<double> same_gbits, same_rtt, cross_gbits, cross_rtt;
    for (int round = 0; round < 3; ++round) {
        Traffic same = measure(tag + "a", tag + "a2", address_of(a2), seconds);
        Traffic cross = measure(tag + "a", tag + "b", address_of(b), seconds);
        same_gbits.push_back(same.gbits);
        same_rtt.push_back(same.rtt_ms);
        cross_gbits.push_back(cross.gbits);
        cross_rtt.push_back(cross.rtt_ms);
    }
    Traffic same{bench::stats(same_gbits).median, bench::stats(same_rtt).median};
    Traffic cross{bench::stats(cross_gbits).median, bench::stats(cross_rtt).median};
    std::printf("%-34s %8.2f Gb/s %9.3f ms\n", "same node, one bridge", same.gbits, same.rtt_ms);
    std::printf("%-34s %8.2f Gb/s %9.3f ms\n", k.label, cross.gbits, cross.rtt_ms);
    if (same.gbits > 0 && cross.gbits > 0) {
        std::printf("%-34s %10.0f %% %+9.3f ms\n", "overlay's cost",
                    100.0 * (1.0 - cross.gbits / same.gbits), cross.rtt_ms - same.rtt_ms);
    }
}

int run(int argc, char** argv) {
    int cycles = argc > 1 ? std::atoi(argv[1]) : 100;
    int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
    bench::enter_private_namespaces();
    auto host = netlib::RouteSocket::open();
    auto nodes = make_nodes(host);
    add_del_latency(nodes, cycles);
    std::printf(
        "\n== TCP (iperf3, %d s) and ping RTT (200 x 10 ms), medians of 3 alternated "
        "rounds, underlay veth MTU 1500\n",
        seconds);
    std::printf("%-34s %12s %12s\n", "path", "throughput", "RTT avg");
    for (const Case& k : {Case{"L2 overlay, node 0 -> node 1", l2_conf},
                          Case{"routed overlay, node 0 -> node 1", routed_conf}}) {
        traffic(nodes, k, seconds);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return bench::main_of("vxlan_bench", run, argc, argv);
}
