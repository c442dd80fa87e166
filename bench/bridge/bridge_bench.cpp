// bridge + host-local ADD and DEL latency, sdnet against the reference plugins, in one run.
//
//   sudo build/release/bench/bridge/bridge_bench [cycles=200] [reference dir=/usr/lib/cni]
//
// Everything happens in a private network and mount namespace (tmpfs on /run/netns and
// /var/lib/cni), so the machine's own network is never touched. Each plugin is exec'd exactly as
// a runtime does. Ours and the reference alternate cycle by cycle so both see the same machine
// state, and so do samples of the kernel's own cost of deleting a veth pair (DEL's floor). Also
// measured: each plugin's process start (a VERSION call), ADD latency with 1, 100 and 500
// containers already attached, next to the kernel's own cost of attaching a veth pair to the
// bridge at each level.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/common/latency.hpp"
#include "bench/common/process_start.hpp"
#include "netlib/bridge_port_wait.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/cni/exec.hpp"

namespace {

using Clock = std::chrono::steady_clock;

using bench::Plugin;

std::string conf_json(bool masq) {
    return std::string{R"({"cniVersion":"1.0.0","name":"bench","type":"bridge",)"} +
           R"("bridge":"bench0","isGateway":true,"ipMasq":)" + (masq ? "true" : "false") +
           R"(,"hairpinMode":true,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.200.0.0/16"}]]}})";
}

// Runs one plugin call and returns its wall time. `result` receives an ADD's output; a DEL is
// sent the ADD's result as prevResult, as a runtime does from its cache.
double call(const Plugin& p, cni::Command cmd, const std::string& id, const std::string& conf,
            nlohmann::json* result = nullptr) {
    cni::PluginEnv env{cmd, id, "/run/netns/" + id, "eth0", "", p.dir};
    auto envp = cni::plugin_environment(env);
    std::string input = conf;
    if (cmd == cni::Command::Del && result != nullptr) {
        auto j = nlohmann::json::parse(conf);
        j["prevResult"] = *result;
        input = j.dump();
    }
    auto t0 = Clock::now();
    auto out = cni::exec_plugin(p.dir + "/bridge", envp, input);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (cmd == cni::Command::Add && result != nullptr) {
        *result = out;
    }
    return ms;
}

// A veth pair like a container's: the peer, eth0, in netns `ns`; the host end on `master`.
netlib::VethSpec container_veth(const std::string& host_name, const netlib::Netns& ns,
                                int master = 0) {
    netlib::VethSpec spec;
    spec.host_name = host_name;
    spec.peer_name = "eth0";
    spec.peer_netns = &ns;
    spec.master = master;
    return spec;
}

// The kernel's cost of deleting what an ADD created, a veth pair on the bridge whose peer sits in
// another netns: what a DEL cannot go below. Deletion waits for RCU grace periods (one more for
// the bridge port's frame handler), so its cost depends on what else the kernel has queued; it
// is sampled inside the same cycles as the plugins' DELs.
double veth_delete_once(netlib::RouteSocket& host, const std::string& id) {
    (void)netlib::create_named_netns(id);
    auto ns = netlib::Netns::open("/run/netns/" + id);
    auto bridge = netlib::find_link(host, "bench0");
    auto spec = container_veth("veth-" + id, ns, bridge ? bridge->index : 0);
    (void)netlib::create_veth(host, spec);
    auto t0 = Clock::now();
    (void)netlib::remove_link(host, spec.host_name);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    netlib::remove_named_netns(id);
    return ms;
}

// Each cycle runs an ADD and a DEL of every plugin and one floor sample, in turn, so that all
// see the same machine state.
void run_cycles(const std::vector<Plugin>& plugins, int cycles, bool masq,
                std::vector<bench::Cycle>& out, std::vector<double>& floor) {
    std::string conf = conf_json(masq);
    auto host = netlib::RouteSocket::open();
    for (int i = 0; i < cycles; ++i) {
        // Which plugin goes first alternates: the first call of a cycle follows the previous
        // cycle's floor sample and pays ~0.3 ms more (measured with the same binary on both
        // sides), which a fixed order would charge to one side only.
        for (std::size_t k = 0; k < plugins.size(); ++k) {
            std::size_t p = (k + static_cast<std::size_t>(i)) % plugins.size();
            std::string id = "cyc" + std::to_string(p) + "-" + std::to_string(i);
            (void)netlib::create_named_netns(id);
            nlohmann::json result;
            out[p].add.push_back(call(plugins[p], cni::Command::Add, id, conf, &result));
            out[p].del.push_back(call(plugins[p], cni::Command::Del, id, conf, &result));
            netlib::remove_named_netns(id);
        }
        char id[16];
        std::snprintf(id, sizeof id, "fl%05d", i);
        floor.push_back(veth_delete_once(host, id));
    }
}

// Every sample, for the distributions scripts/plots draws: ADD, DEL and process start (a VERSION
// call) of each plugin, and the kernel's own veth delete (the DEL floor).
void write_samples(bench::DataFile& data, bool masq, const std::vector<Plugin>& plugins,
                   const std::vector<bench::Cycle>& c, const std::vector<double>& floor) {
    for (std::size_t p = 0; p < plugins.size(); ++p) {
        const char* who = plugins[p].label.c_str();
        for (double ms : c[p].add) {
            data.row("%d,%s,add,%.3f", masq ? 1 : 0, who, ms);
        }
        for (double ms : c[p].del) {
            data.row("%d,%s,del,%.3f", masq ? 1 : 0, who, ms);
        }
        for (double ms : c[p].start) {
            data.row("%d,%s,start,%.3f", masq ? 1 : 0, who, ms);
        }
    }
    for (double ms : floor) {
        data.row("%d,kernel,del,%.3f", masq ? 1 : 0, ms);
    }
}

void print_floor(const std::vector<bench::Cycle>& c, const std::vector<double>& floor) {
    auto f = bench::stats(floor);
    std::printf(
        "%-10s %12s %12s %10.2fms %10.2fms  (deleting a bridge port veth pair, netns peer)\n",
        "kernel", "", "", f.median, f.p99);
    std::printf("sdnet DEL median above the kernel floor: %.2fms\n",
                bench::stats(c[0].del).median - f.median);
}

// The kernel's own cost of what an ADD does to the bridge: a veth pair with its peer created in
// a fresh netns, the host end enslaved and up, the peer up, until the port forwards. Sampled
// next to the ADDs at each level, it shows how much of the growth with attached containers is
// the kernel's (its per-port work in the bridge, multicast flooded to every port).
double attach_floor_once(netlib::RouteSocket& host, int bridge_index, const std::string& id) {
    (void)netlib::create_named_netns(id);
    auto ns = netlib::Netns::open("/run/netns/" + id);
    auto t0 = Clock::now();
    auto port = netlib::create_veth(host, container_veth("f" + id, ns, bridge_index));
    (void)netlib::wait_bridge_port_enabled(host, port.index, std::chrono::seconds(5));
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    (void)netlib::remove_link(host, port.index);
    netlib::remove_named_netns(id);
    return ms;
}

// ADD latency of a fresh container while `attached` others stay on the bridge; with `floor`,
// kernel floor samples (attach_floor_once) alternate with the ADDs.
bench::Stats add_with_attached(const Plugin& p, int attached, int samples, int& next_id,
                               std::vector<double>* floor = nullptr) {
    std::string conf = conf_json(true);
    std::vector<std::string> kept;
    while (static_cast<int>(kept.size()) < attached) {
        std::string id = "keep-" + p.label + std::to_string(next_id++);
        (void)netlib::create_named_netns(id);
        call(p, cni::Command::Add, id, conf);
        kept.push_back(id);
    }
    bench::settle_population();
    std::vector<double> ms;
    for (int i = 0; i < samples; ++i) {
        std::string id = "probe" + std::to_string(next_id++);
        (void)netlib::create_named_netns(id);
        nlohmann::json result;
        ms.push_back(call(p, cni::Command::Add, id, conf, &result));
        call(p, cni::Command::Del, id, conf, &result);
        netlib::remove_named_netns(id);
        if (floor != nullptr) {
            auto host = netlib::RouteSocket::open();
            auto br = netlib::find_link(host, "bench0");
            floor->push_back(
                attach_floor_once(host, br ? br->index : 0, "fl" + std::to_string(next_id++)));
        }
    }
    for (const auto& id : kept) {
        call(p, cni::Command::Del, id, conf);
        netlib::remove_named_netns(id);
    }
    return bench::stats(ms);
}

}  // namespace

int main(int argc, char** argv) {
    int cycles = argc > 1 ? std::atoi(argv[1]) : 200;
    std::string ref_dir = argc > 2 ? argv[2] : "/usr/lib/cni";
    bench::enter_private_namespaces();
    auto plugins = bench::compared_plugins(SDNET_PLUGIN_DIR, ref_dir, "bridge");
    bench::DataFile data("bridge_add_del", "ipmasq,who,op,ms");
    try {
        for (bool masq : {true, false}) {
            std::vector<bench::Cycle> c(plugins.size());
            std::vector<double> floor;
            run_cycles(plugins, cycles, masq, c, floor);
            bench::sample_process_start(plugins, "bridge", cycles, c);
            bench::print_cycles(
                masq ? "== ADD/DEL, ipMasq true (sdnet: nftables, reference: iptables)"
                     : "== ADD/DEL, ipMasq false",
                plugins, c);
            print_floor(c, floor);
            bench::print_process_start(plugins, c);
            write_samples(data, masq, plugins, c, floor);
        }
        std::printf("\n== ADD latency (ms) with N containers attached, ipMasq true\n%-10s",
                    "plugin");
        const int levels[] = {1, 100, 500};
        for (int n : levels) {
            std::printf(" %9s%-4d", "N=", n);
        }
        std::printf("\n");
        int next_id = 0;
        std::vector<double> floor_medians;
        for (const auto& p : plugins) {
            std::printf("%-10s", p.label.c_str());
            for (int n : levels) {
                std::vector<double> floor;
                bool ours = &p == &plugins.front();
                std::printf(" %11.2fms",
                            add_with_attached(p, n, 20, next_id, ours ? &floor : nullptr).median);
                std::fflush(stdout);
                if (ours) {
                    floor_medians.push_back(bench::stats(floor).median);
                }
            }
            std::printf("\n");
        }
        std::printf("%-10s", "kernel");
        for (double m : floor_medians) {
            std::printf(" %11.2fms", m);
        }
        std::printf("  (veth into a netns, enslaved, both ends up, port forwarding)\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bridge_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
