// bridge + portmap ADD and DEL latency with N containers already published (two mappings each),
// sdnet against the reference plugins (iptables-nft), in one run.
//
//   sudo build/release/bench/portmap/portmap_bench [samples=20] [levels=1,100,500,1000]
//                                                  [reference dir=/usr/lib/cni]
//
// Everything happens in private namespaces: the process unshares its network and mount
// namespaces (tmpfs on /run, so iptables' lock file and /run/netns stay private, and on
// /var/lib/cni), then gives each implementation its own "host" network namespace, so the
// reference's iptables-nft tables and sdnet's nftables table never share a ruleset. Plugins are
// exec'd exactly as a runtime does, each call timed from fork to exit. The portmap call is
// reported on its own and together with bridge.
//
// One implementation is measured at every level, its population torn down, then the other: a
// host runs one portmap, not both. With both populations up and probes alternating, the
// reference's 1,000 containers (iptables-nft chains rewritten per call, in its own netns) left
// enough kernel work behind each of its probes to slow sdnet's probes at 1,000 by ~25%, while a
// run of sdnet alone stayed flat.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/common/latency.hpp"
#include "netlib/conntrack.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "netlib/sysctl.hpp"
#include "plugins/cni/exec.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using bench::stats;
using nlohmann::json;

// One implementation: its plugin directory, its own host netns and network.
struct Impl {
    std::string label;
    std::string dir;
    std::string host_ns;
    std::string network;
    std::string bridge;
    std::string subnet;
    int kept = 0;
};

struct Samples {
    std::vector<double> bridge_add, portmap_add, bridge_del, portmap_del, chain_add, chain_del;
};

json bridge_conf(const Impl& impl) {
    return {{"cniVersion", "1.0.0"},
            {"name", impl.network},
            {"type", "bridge"},
            {"bridge", impl.bridge},
            {"isGateway", true},
            {"ipMasq", true},
            {"hairpinMode", true},
            {"ipam",
             {{"type", "host-local"},
              {"ranges", json::array({json::array({{{"subnet", impl.subnet}}})})},
              {"routes", json::array({{{"dst", "0.0.0.0/0"}}})}}}};
}

// Two mappings per container, as podman sends for "-p H:80 -p H:53/udp".
json portmap_conf(const Impl& impl, int host_port, const json& prev) {
    json mappings =
        json::array({{{"hostPort", host_port}, {"containerPort", 80}, {"protocol", "tcp"}},
                     {{"hostPort", host_port}, {"containerPort", 53}, {"protocol", "udp"}}});
    return {{"cniVersion", "1.0.0"},
            {"name", impl.network},
            {"type", "portmap"},
            {"capabilities", {{"portMappings", true}}},
            {"runtimeConfig", {{"portMappings", mappings}}},
            {"prevResult", prev}};
}

// Runs `type` of `impl` in its host netns; returns the wall time in ms.
double call(const Impl& impl, const std::string& type, cni::Command cmd, const std::string& id,
            const json& conf, json* out = nullptr) {
    auto host = netlib::Netns::open("/run/netns/" + impl.host_ns);
    netlib::NetnsGuard in{host};
    cni::PluginEnv env{cmd, id, "/run/netns/" + id, "eth0", "", impl.dir};
    auto envp = cni::plugin_environment(env);
    std::string input = conf.dump();
    auto t0 = Clock::now();
    auto result = cni::exec_plugin(impl.dir + "/" + type, envp, input);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (out != nullptr) {
        *out = std::move(result);
    }
    return ms;
}

struct Timing {
    double bridge = 0;
    double portmap = 0;
};

Timing attach(const Impl& impl, const std::string& id, int host_port, json& bridge_result) {
    (void)netlib::create_named_netns(id);
    Timing t;
    t.bridge = call(impl, "bridge", cni::Command::Add, id, bridge_conf(impl), &bridge_result);
    t.portmap =
        call(impl, "portmap", cni::Command::Add, id, portmap_conf(impl, host_port, bridge_result));
    return t;
}

// DEL in the runtime's order: portmap first, then bridge; both with the cached result. The
// container's netns is left for the caller to remove.
Timing detach(const Impl& impl, const std::string& id, int host_port, const json& bridge_result) {
    Timing t;
    t.portmap =
        call(impl, "portmap", cni::Command::Del, id, portmap_conf(impl, host_port, bridge_result));
    json conf = bridge_conf(impl);
    conf["prevResult"] = bridge_result;
    t.bridge = call(impl, "bridge", cni::Command::Del, id, conf);
    return t;
}

std::string kept_id(const Impl& impl, int n) {
    return impl.label + "-keep" + std::to_string(n);
}

void grow(Impl& impl, int target, std::vector<json>& results) {
    for (; impl.kept < target; ++impl.kept) {
        results.emplace_back();
        (void)attach(impl, kept_id(impl, impl.kept), 10000 + impl.kept, results.back());
    }
}

void tear_down(Impl& impl, std::vector<json>& results) {
    for (; impl.kept > 0; --impl.kept) {
        int n = impl.kept - 1;
        (void)detach(impl, kept_id(impl, n), 10000 + n, results[static_cast<std::size_t>(n)]);
        netlib::remove_named_netns(kept_id(impl, n));
    }
    results.clear();
}

// A probe's netns is removed after the level's last probe (`spent`): the kernel tears a netns
// down on a worker, ~ms of work that would land in the next probe.
void probe(const Impl& impl, int n, Samples& s, std::vector<std::string>& spent) {
    // A probe leaves work behind in the kernel (workers, RCU callbacks), more of it for the
    // reference at 1,000 published containers; each probe starts once that has drained.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::string id = impl.label + "-probe" + std::to_string(n);
    json result;
    auto add = attach(impl, id, 30000, result);
    auto del = detach(impl, id, 30000, result);
    spent.push_back(id);
    s.bridge_add.push_back(add.bridge);
    s.portmap_add.push_back(add.portmap);
    s.chain_add.push_back(add.bridge + add.portmap);
    s.bridge_del.push_back(del.bridge);
    s.portmap_del.push_back(del.portmap);
    s.chain_del.push_back(del.bridge + del.portmap);
}

void enter_private_namespaces() {
    if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
        std::perror("unshare (run as root)");
        std::exit(1);
    }
    ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    for (const char* dir : {"/run", "/var/lib/cni"}) {
        std::filesystem::create_directories(dir);
        ::mount("tmpfs", dir, "tmpfs", 0, nullptr);
    }
    std::filesystem::create_directories("/run/netns");
}

void make_host(const Impl& impl) {
    (void)netlib::create_named_netns(impl.host_ns);
    auto ns = netlib::Netns::open("/run/netns/" + impl.host_ns);
    auto sock = netlib::RouteSocket::open_in(ns);
    netlib::set_up(sock, netlib::find_link(sock, "lo")->index, true);
}

// What sdnet's UDP conntrack cleanup costs when the namespace has entries: a ctnetlink dump
// walks every bucket of the kernel's (global) conntrack table. One UDP datagram to a closed
// local port leaves an entry; then the cleanup is timed in-process, without exec.
double conntrack_walk_ms(const Impl& impl, int samples) {
    auto host = netlib::Netns::open("/run/netns/" + impl.host_ns);
    netlib::NetnsGuard in{host};
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(9);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
    ::close(fd);
    std::vector<double> ms;
    for (int i = 0; i < samples; ++i) {
        auto t0 = Clock::now();
        netlib::conntrack_delete_by_dport(netlib::Family::V4, 17, {30000});
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    return stats(ms).median;
}

std::vector<int> parse_levels(const std::string& text) {
    std::vector<int> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        out.push_back(std::stoi(item));
    }
    return out;
}

void print_row(const char* what, int n, const Impl& impl, const Samples& s, bench::DataFile& data) {
    auto pa = stats(s.portmap_add);
    auto pd = stats(s.portmap_del);
    auto ca = stats(s.chain_add);
    auto cd = stats(s.chain_del);
    std::printf("%-8s %5d  %-10s %8.2f %8.2f   %8.2f %8.2f   %8.2f %8.2f   %8.2f %8.2f\n", what, n,
                impl.label.c_str(), pa.median, pa.p99, pd.median, pd.p99, ca.median, ca.p99,
                cd.median, cd.p99);
    std::fflush(stdout);
    data.row("%s,%d,%.3f,%.3f,%.3f,%.3f", impl.label.c_str(), n, pa.median, pa.p99, pd.median,
             pd.p99);
}

}  // namespace

int main(int argc, char** argv) {
    int samples = argc > 1 ? std::atoi(argv[1]) : 20;
    auto levels = parse_levels(argc > 2 ? argv[2] : "1,100,500,1000");
    std::string ref_dir = argc > 3 ? argv[3] : "/usr/lib/cni";
    enter_private_namespaces();
    std::vector<Impl> impls{
        {"sdnet", SDNET_PLUGIN_DIR, "host-sdnet", "bench-sdnet", "pmb0", "10.200.0.0/16", 0}};
    if (std::filesystem::exists(ref_dir + "/portmap")) {
        impls.push_back(
            {"reference", ref_dir, "host-ref", "bench-ref", "pmr0", "10.201.0.0/16", 0});
    } else {
        std::printf("reference plugins not found in %s: measuring sdnet only\n", ref_dir.c_str());
    }
    std::map<std::pair<int, std::string>, Samples> all;
    bench::DataFile data("portmap_add",
                         "plugin,published,add_median_ms,add_p99_ms,del_median_ms,del_p99_ms");
    try {
        for (const auto& impl : impls) {
            make_host(impl);
        }
        std::printf("ms; N = containers already published (2 mappings each)\n");
        std::printf("%-8s %5s  %-10s %17s   %17s   %17s   %17s\n", "", "N", "plugin",
                    "portmap ADD med/p99", "portmap DEL med/p99", "bridge+pm ADD med/p99",
                    "bridge+pm DEL med/p99");
        for (auto& impl : impls) {
            std::vector<json> population;
            for (int level : levels) {
                grow(impl, level, population);
                bench::settle_population();
                std::vector<std::string> spent;
                for (int i = 0; i < samples; ++i) {
                    probe(impl, level * 1000 + i, all[{level, impl.label}], spent);
                }
                for (const auto& id : spent) {
                    netlib::remove_named_netns(id);
                }
                print_row("", level, impl, all[{level, impl.label}], data);
            }
            if (&impl != &impls.back()) {
                tear_down(impl, population);
                bench::settle_population();
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "portmap_bench: %s\n", e.what());
        return 1;
    }
    int first = levels.front();
    int last = levels.back();
    auto median = [&](int level, const std::string& label) {
        return stats(all[{level, label}].portmap_add).median;
    };
    if (impls.size() == 2) {
        std::printf("\nportmap ADD median at N=%d: reference/sdnet = %.1fx\n", first,
                    median(first, "reference") / median(first, "sdnet"));
        std::printf("reference portmap ADD median N=%d / N=%d: %.2f\n", last, first,
                    median(last, "reference") / median(first, "reference"));
    }
    std::printf("sdnet portmap ADD median N=%d / N=%d: %.2f\n", last, first,
                median(last, "sdnet") / median(first, "sdnet"));
    auto buckets = netlib::try_read_sysctl("net/netfilter/nf_conntrack_buckets");
    std::printf(
        "conntrack cleanup of a UDP port (in-process, namespace with entries, %s "
        "buckets): %.2f ms median\n",
        buckets.value_or("?").c_str(), conntrack_walk_ms(impls.front(), samples));
    return 0;
}
