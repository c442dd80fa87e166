// ADD+DEL latency of our host-local against the reference (/usr/lib/cni/host-local), run side by
// side: each round runs both implementations, alternating which goes first, each on its own
// private dataDir holding the same number of pre-existing reservations. Prints medians, p99 and
// the reference/ours ratio.
//
//   host_local_exec_bench [--n 200] [--existing 0] [--ours PATH] [--reference PATH]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "netlib/ip.hpp"
#include "plugins/cni/exec.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Impl {
    std::string label;
    std::string binary;
    std::string config;
    std::vector<double> add_ms;
    std::vector<double> del_ms;
    std::vector<double> total_ms;
};

std::string make_config(const std::string& data_dir) {
    nlohmann::json c = {
        {"cniVersion", "1.0.0"},
        {"name", "bench"},
        {"type", "bridge"},
        {"ipam",
         {{"type", "host-local"},
          {"dataDir", data_dir},
          {"ranges",
           nlohmann::json::array({nlohmann::json::array({{{"subnet", "10.20.0.0/16"}}})})}}}};
    return c.dump();
}

void prepopulate(const fs::path& dir, long existing) {
    fs::create_directories(dir);
    netlib::IpAddr a = netlib::IpAddr::parse("10.20.0.2");
    for (long i = 0; i < existing; ++i, a = a.next()) {
        std::ofstream(dir / a.to_string()) << "pre-" << i << "\r\neth0";
    }
    if (existing > 0) {
        std::ofstream(dir / "last_reserved_ip.0") << a.prev().to_string();
    }
}

double call(const Impl& impl, cni::Command cmd, const std::string& id) {
    cni::PluginEnv env{cmd, id, "/var/run/netns/" + id, "eth0", "", "/usr/lib/cni"};
    auto envp = cni::plugin_environment(env);
    auto start = Clock::now();
    cni::exec_plugin(impl.binary, envp, impl.config);
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(i, 1, v.size()) - 1];
}

}  // namespace

int main(int argc, char** argv) {
    long n = 200;
    long existing = 0;
    Impl ours{"sdnet host-local", SDNET_HOST_LOCAL, {}, {}, {}, {}};
    Impl ref{"reference v1.1.1", "/usr/lib/cni/host-local", {}, {}, {}, {}};
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        if (flag == "--n") {
            n = std::atol(argv[i + 1]);
        } else if (flag == "--existing") {
            existing = std::atol(argv[i + 1]);
        } else if (flag == "--ours") {
            ours.binary = argv[i + 1];
        } else if (flag == "--reference") {
            ref.binary = argv[i + 1];
        } else {
            std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
            return 2;
        }
    }
    std::string tmpl = (fs::temp_directory_path() / "sdnet-exec-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    fs::path root = tmpl;
    ours.config = make_config((root / "ours").string());
    ref.config = make_config((root / "ref").string());
    prepopulate(root / "ours" / "bench", existing);
    prepopulate(root / "ref" / "bench", existing);

    try {
        constexpr long kWarmUp = 5;  // page cache, binaries, and our one-time index of `existing`
        for (long i = -kWarmUp; i < n; ++i) {
            std::string id = "bench-" + std::to_string(i + kWarmUp);
            Impl* order[2] = {&ours, &ref};
            if (i % 2 != 0) {
                std::swap(order[0], order[1]);
            }
            for (Impl* impl : order) {
                double add = call(*impl, cni::Command::Add, id);
                double del = call(*impl, cni::Command::Del, id);
                if (i >= 0) {
                    impl->add_ms.push_back(add);
                    impl->del_ms.push_back(del);
                    impl->total_ms.push_back(add + del);
                }
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "host_local_exec_bench: %s\n", e.what());
        fs::remove_all(root);
        return 1;
    }
    fs::remove_all(root);

    std::printf("host-local ADD+DEL, %ld rounds, /16 with %ld existing reservations (ms)\n", n,
                existing);
    std::printf("%-18s %10s %10s %10s %10s %12s %12s\n", "", "ADD p50", "ADD p99", "DEL p50",
                "DEL p99", "ADD+DEL p50", "ADD+DEL p99");
    for (const Impl* impl : {&ours, &ref}) {
        std::printf("%-18s %10.3f %10.3f %10.3f %10.3f %12.3f %12.3f\n", impl->label.c_str(),
                    quantile(impl->add_ms, 0.5), quantile(impl->add_ms, 0.99),
                    quantile(impl->del_ms, 0.5), quantile(impl->del_ms, 0.99),
                    quantile(impl->total_ms, 0.5), quantile(impl->total_ms, 0.99));
    }
    std::printf("ratio reference/ours (ADD+DEL p50): %.2fx\n",
                quantile(ref.total_ms, 0.5) / quantile(ours.total_ms, 0.5));
    return 0;
}
