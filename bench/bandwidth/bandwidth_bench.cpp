// bandwidth ADD and DEL latency, sdnet against the reference plugin, in one run.
//
//   sudo build/release/bench/bandwidth/bandwidth_bench [cycles=200] [reference dir=/usr/lib/cni]
//
// Everything happens in a private network and mount namespace (tmpfs on /run/netns and
// /var/lib/cni), so the machine's own network is never touched. Each cycle attaches a fresh
// container with our bridge plugin (not timed), then times the bandwidth plugin's ADD (with the
// bridge result as prevResult) and DEL exactly as a runtime execs them; ours and the reference
// alternate cycle by cycle so both see the same machine state. Two configurations: both
// directions (tbf on the veth + ifb with its own tbf and the redirect), and ingress only (one
// tbf, no ifb). Also measured: the kernel's own cost of deleting an ifb (DEL's floor).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/common/latency.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/cni/exec.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

using bench::Plugin;

const char* const kBridgeConf =
    R"({"cniVersion":"1.0.0","name":"bench","type":"bridge","bridge":"bench0","isGateway":true,)"
    R"("ipam":{"type":"host-local","ranges":[[{"subnet":"10.200.0.0/16"}]]}})";

json bandwidth_conf(bool egress) {
    json c = {{"cniVersion", "1.0.0"},
              {"name", "bench"},
              {"type", "bandwidth"},
              {"ingressRate", 100'000'000},
              {"ingressBurst", 1'000'000}};
    if (egress) {
        c["egressRate"] = 100'000'000;
        c["egressBurst"] = 1'000'000;
    }
    return c;
}

json exec(const std::string& dir, const std::string& type, cni::Command cmd, const std::string& id,
          const std::string& input) {
    cni::PluginEnv env{cmd, id, "/run/netns/" + id, "eth0", "", dir};
    return cni::exec_plugin(dir + "/" + type, cni::plugin_environment(env), input);
}

double timed(const std::string& dir, cni::Command cmd, const std::string& id,
             const std::string& input, json* out = nullptr) {
    auto t0 = Clock::now();
    json r = exec(dir, "bandwidth", cmd, id, input);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (out != nullptr) {
        *out = std::move(r);
    }
    return ms;
}

// One container: our bridge attaches it, `p`'s bandwidth ADD and DEL are timed, the bridge
// detaches it.
void one_cycle(const Plugin& p, const std::string& id, bool egress, bench::Cycle& out) {
    (void)netlib::create_named_netns(id);
    json prev = exec(SDNET_PLUGIN_DIR, "bridge", cni::Command::Add, id, kBridgeConf);
    json conf = bandwidth_conf(egress);
    conf["prevResult"] = prev;
    json result;
    out.add.push_back(timed(p.dir, cni::Command::Add, id, conf.dump(), &result));
    conf["prevResult"] = result;
    out.del.push_back(timed(p.dir, cni::Command::Del, id, conf.dump()));
    json bridge_del = json::parse(kBridgeConf);
    bridge_del["prevResult"] = prev;
    exec(SDNET_PLUGIN_DIR, "bridge", cni::Command::Del, id, bridge_del.dump());
    netlib::remove_named_netns(id);
}

// The kernel's cost of deleting an ifb (unregistering a device waits for RCU grace periods):
// what a DEL that removes one cannot go below.
double ifb_delete_floor(int cycles) {
    auto sock = netlib::RouteSocket::open();
    std::vector<double> ms;
    for (int i = 0; i < cycles; ++i) {
        netlib::IfbSpec spec;
        spec.name = "floor" + std::to_string(i);
        auto ifb = netlib::create_ifb(sock, spec);
        auto t0 = Clock::now();
        (void)netlib::remove_link(sock, ifb.index);
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    return bench::stats(ms).median;
}

}  // namespace

int main(int argc, char** argv) {
    int cycles = argc > 1 ? std::atoi(argv[1]) : 200;
    std::string ref_dir = argc > 2 ? argv[2] : "/usr/lib/cni";
    bench::enter_private_namespaces();
    auto plugins = bench::compared_plugins(SDNET_PLUGIN_DIR, ref_dir, "bandwidth");
    try {
        for (bool egress : {true, false}) {
            std::vector<bench::Cycle> c(plugins.size());
            for (int i = 0; i < cycles; ++i) {
                for (std::size_t p = 0; p < plugins.size(); ++p) {
                    one_cycle(plugins[p], "c" + std::to_string(p) + "-" + std::to_string(i), egress,
                              c[p]);
                }
            }
            bench::print_cycles(
                egress ? "== bandwidth ADD/DEL, ingress + egress (veth tbf, ifb, redirect)"
                       : "== bandwidth ADD/DEL, ingress only (veth tbf)",
                plugins, c);
        }
        std::printf("\nkernel floor: delete one ifb: %.2fms median\n", ifb_delete_floor(cycles));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bandwidth_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
