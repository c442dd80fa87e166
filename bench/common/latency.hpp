#pragma once

// Shared by the plugin benchmarks: latency statistics, the private namespaces they run in, and
// the side-by-side table they print.

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>
#include <sys/mount.h>
#include <sys/utsname.h>

namespace bench {

struct Stats {
    double median = 0;
    double p99 = 0;
};

// Waits after a population of containers was attached, before timing probes. A fresh
// container's interface sends IPv6 router solicitations (at 1, 5, 13, 29 s ...), MLD reports
// and DAD probes to multicast groups nobody has joined, which the bridge floods to every port:
// right after 1,000 attachments that traffic keeps a CPU busy in softirq (perf: ipv6_rcv,
// ip6_route_input under the probes) and would be charged to whichever plugin runs next. Both
// implementations get the same pause.
inline void settle_population() {
    std::this_thread::sleep_for(std::chrono::seconds(20));
}

inline Stats stats(std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    if (ms.empty()) {
        return {};
    }
    auto at = [&](double q) { return ms[static_cast<std::size_t>(q * double(ms.size() - 1))]; };
    return {at(0.5), at(0.99)};
}

// A private network and mount namespace with tmpfs on /run/netns and /var/lib/cni: the
// machine's own network and IPAM state are never touched. Exits when not root.
inline void enter_private_namespaces() {
    if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
        std::perror("unshare (run as root)");
        std::exit(1);
    }
    ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    for (const char* dir : {"/run/netns", "/var/lib/cni"}) {
        std::filesystem::create_directories(dir);
        ::mount("tmpfs", dir, "tmpfs", 0, nullptr);
    }
}

// A plugin directory to measure, with the label printed for it.
struct Plugin {
    std::string label;
    std::string dir;
};

// Ours, and the reference in `ref_dir` when it has `type` (else a note and ours only).
inline std::vector<Plugin> compared_plugins(const std::string& ours_dir, const std::string& ref_dir,
                                            const std::string& type) {
    std::vector<Plugin> plugins{{"sdnet", ours_dir}};
    if (std::filesystem::exists(ref_dir + "/" + type)) {
        plugins.push_back({"reference", ref_dir});
    } else {
        std::printf("reference plugins not found in %s: measuring sdnet only\n", ref_dir.c_str());
    }
    return plugins;
}

// ADD and DEL wall times (ms) of one plugin; `start`, where a bench samples it, the wall time
// of a VERSION call (exec, loading, answer, exit): what any call of that binary costs.
struct Cycle {
    std::vector<double> add;
    std::vector<double> del;
    std::vector<double> start;
};

// One row per plugin: ADD and DEL median and p99; with two plugins, the second's medians over
// the first's.
inline void print_cycles(const char* title, const std::vector<Plugin>& plugins,
                         const std::vector<Cycle>& c) {
    std::vector<std::string> labels;
    for (const auto& p : plugins) {
        labels.push_back(p.label);
    }
    std::printf("\n%s\n%-10s %12s %12s %12s %12s\n", title, "plugin", "ADD median", "ADD p99",
                "DEL median", "DEL p99");
    for (std::size_t p = 0; p < labels.size(); ++p) {
        auto a = stats(c[p].add);
        auto d = stats(c[p].del);
        std::printf("%-10s %10.2fms %10.2fms %10.2fms %10.2fms\n", labels[p].c_str(), a.median,
                    a.p99, d.median, d.p99);
    }
    if (labels.size() == 2) {
        std::printf("median ratio %s/%s: ADD %.1fx, DEL %.1fx\n", labels[1].c_str(),
                    labels[0].c_str(), stats(c[1].add).median / stats(c[0].add).median,
                    stats(c[1].del).median / stats(c[0].del).median);
    }
}

// A bench's main(): runs `run`, and reports an exception as one line naming the bench.
inline int main_of(const char* name, int (*run)(int, char**), int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", name, e.what());
        return 1;
    }
}

// "<cpu model>, <n> CPUs, <n> MiB": which machine a data file was measured on.
inline std::string machine_description() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line, model = "unknown CPU";
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
            model = line.substr(line.find(':') + 2);
            break;
        }
    }
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    long kib = 0;
    meminfo >> key >> kib;
    return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " CPUs, " +
           std::to_string(kib / 1024) + " MiB";
}

// A bench's figures as data for scripts/plots: with SDNET_BENCH_DATA=DIR, DIR/<name>.csv, whose
// '#' lines name the machine, kernel and date it was measured on, then a header and the rows.
// Without the variable nothing is written.
class DataFile {
public:
    DataFile(const std::string& name, const std::string& columns) {
        const char* dir = std::getenv("SDNET_BENCH_DATA");
        if (dir == nullptr || *dir == '\0') {
            return;
        }
        std::string path = std::string(dir) + "/" + name + ".csv";
        file_ = std::fopen(path.c_str(), "w");
        if (file_ == nullptr) {
            std::perror(path.c_str());
            std::exit(1);
        }
        utsname uts{};
        (void)::uname(&uts);
        char date[32];
        std::time_t now = std::time(nullptr);
        (void)std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
        std::fprintf(file_, "# machine: %s\n# kernel: %s %s\n# date: %s\n%s\n",
                     machine_description().c_str(), uts.sysname, uts.release, date,
                     columns.c_str());
    }

    DataFile(const DataFile&) = delete;
    DataFile& operator=(const DataFile&) = delete;

    ~DataFile() {
        if (file_ != nullptr) {
            std::fclose(file_);
        }
    }

    // printf-style, checked as printf's; one line per call.
    __attribute__((format(printf, 2, 3))) void row(const char* format, ...) {
        if (file_ != nullptr) {
            std::va_list args;
            va_start(args, format);
            std::vfprintf(file_, format, args);
            va_end(args);
            std::fputc('\n', file_);
            std::fflush(file_);
        }
    }

private:
    std::FILE* file_ = nullptr;
};

}  // namespace bench
