// macvlan, ipvlan or vlan (+ host-local) ADD and DEL latency, sdnet against the reference
// plugins, in one run:
//
//   sudo build/release/bench/child_link/child_link_bench macvlan [cycles=200] [ref=/usr/lib/cni]
//   scripts/uml-run -- build/release/bench/child_link/child_link_bench ipvlan 100
//
// In a private network and mount namespace (the machine's network is never touched), on a veth
// master. Ours and the reference alternate cycle by cycle, and so do samples of the kernel's own
// cost of deleting a link of that kind from a container netns (DEL's floor).
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "bench/common/latency.hpp"
#include "bench/common/process_start.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/cni/exec.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using bench::Plugin;

double since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string conf_json(const std::string& type) {
    std::string extra = type == "vlan" ? R"("vlanId":100,)" : "";
    return R"({"cniVersion":"1.0.0","name":"bench","type":")" + type + R"(","master":"bmaster",)" +
           extra + R"("ipam":{"type":"host-local","ranges":[[{"subnet":"10.201.0.0/16"}]]}})";
}

double call(const Plugin& p, const std::string& type, cni::Command cmd, const std::string& id,
            const std::string& conf, nlohmann::json& result) {
    auto envp = cni::plugin_environment({cmd, id, "/run/netns/" + id, "eth0", "", p.dir});
    std::string input = conf;
    if (cmd == cni::Command::Del) {
        auto j = nlohmann::json::parse(conf);
        j["prevResult"] = result;
        input = j.dump();
    }
    auto t0 = Clock::now();
    auto out = cni::exec_plugin(p.dir + "/" + type, envp, input);
    double ms = since(t0);
    if (cmd == cni::Command::Add) {
        result = out;
    }
    return ms;
}

// The kernel's cost of deleting a link of `type` on the master from inside a container netns.
double kernel_delete_once(netlib::RouteSocket& host, const std::string& type, int master,
                          const std::string& id) {
    (void)netlib::create_named_netns(id);
    auto ns = netlib::Netns::open("/run/netns/" + id);
    if (type == "macvlan") {
        (void)netlib::create_macvlan(host, {"eth0", master, "bridge", {}, {}, &ns, true});
    } else if (type == "ipvlan") {
        (void)netlib::create_ipvlan(host, {"eth0", master, "l2", "bridge", {}, &ns, true});
    } else {
        (void)netlib::create_vlan(host, {"eth0", master, 100, {}, &ns, true});
    }
    auto ctr = netlib::RouteSocket::open_in(ns);
    auto t0 = Clock::now();
    (void)netlib::remove_link(ctr, "eth0");
    double ms = since(t0);
    netlib::remove_named_netns(id);
    return ms;
}

// Everything but the report of an error (main).
int run(int argc, char** argv) {
    std::string type = argc > 1 ? argv[1] : "macvlan";
    if (type != "macvlan" && type != "ipvlan" && type != "vlan") {
        std::fprintf(stderr, "usage: %s macvlan|ipvlan|vlan [cycles] [reference dir]\n", argv[0]);
        return 2;
    }
    int cycles = argc > 2 ? std::atoi(argv[2]) : 200;
    std::string ref_dir = argc > 3 ? argv[3] : "/usr/lib/cni";
    bench::enter_private_namespaces();
    auto host = netlib::RouteSocket::open();
    netlib::VethSpec veth{"bmaster", "bmasterp", nullptr, {}, {}, 0, true, nullptr};
    int master = netlib::create_veth(host, veth).index;
    netlib::set_up(host, master, true);

    auto plugins = bench::compared_plugins(SDNET_PLUGIN_DIR, ref_dir, type);
    std::vector<bench::Cycle> c(plugins.size());
    std::vector<double> floor;
    std::string conf = conf_json(type);
    for (int i = 0; i < cycles; ++i) {
        for (std::size_t k = 0; k < plugins.size(); ++k) {
            std::size_t p = (k + static_cast<std::size_t>(i)) % plugins.size();
            std::string id = "cyc" + std::to_string(p) + "-" + std::to_string(i);
            (void)netlib::create_named_netns(id);
            nlohmann::json result;
            c[p].add.push_back(call(plugins[p], type, cni::Command::Add, id, conf, result));
            c[p].del.push_back(call(plugins[p], type, cni::Command::Del, id, conf, result));
            netlib::remove_named_netns(id);
        }
        floor.push_back(kernel_delete_once(host, type, master, "fl" + std::to_string(i)));
    }
    bench::sample_process_start(plugins, type, cycles, c);
    std::string title =
        "== " + type + " + host-local ADD/DEL, " + std::to_string(cycles) + " cycles";
    bench::print_cycles(title.c_str(), plugins, c);
    bench::print_process_start(plugins, c);
    auto f = bench::stats(floor);
    std::printf("%-10s %12s %12s %10.2fms %10.2fms  (deleting a %s from a container netns)\n",
                "kernel", "", "", f.median, f.p99, type.c_str());
    std::printf("sdnet DEL median above the kernel floor: %.2fms (%.2fms without process start)\n",
                bench::stats(c[0].del).median - f.median,
                bench::stats(c[0].del).median - bench::stats(c[0].start).median - f.median);
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    return bench::main_of("child_link_bench", run, argc, argv);
}
