#pragma once

// Process start of a plugin binary (a VERSION call: exec, loading, answer, exit), the part of
// every call that is not the call's own work; benches print each ADD and DEL above it.

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/common/latency.hpp"
#include "plugins/cni/exec.hpp"

namespace bench {

// A VERSION call's wall time (ms) of `dir`/`type`.
inline double version_call(const Plugin& p, const std::string& type) {
    auto envp = cni::plugin_environment({cni::Command::Version, "", "", "", "", p.dir});
    auto t0 = std::chrono::steady_clock::now();
    (void)cni::exec_plugin(p.dir + "/" + type, envp, R"({"cniVersion":"1.0.0"})");
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Sampled after the cycles rather than inside them: a VERSION call between a DEL and the next
// floor sample or ADD gives the kernel time to finish the DEL's deferred work, which would
// change what those measure. Alternates the plugins as the cycles do.
inline void sample_process_start(const std::vector<Plugin>& plugins, const std::string& type,
                                 int samples, std::vector<Cycle>& out) {
    for (int i = 0; i < samples; ++i) {
        for (std::size_t k = 0; k < plugins.size(); ++k) {
            std::size_t p = (k + static_cast<std::size_t>(i)) % plugins.size();
            out[p].start.push_back(version_call(plugins[p], type));
        }
    }
}

// How much of each ADD and DEL is process start and how much the call's own work.
inline void print_process_start(const std::vector<Plugin>& plugins, const std::vector<Cycle>& c) {
    for (std::size_t p = 0; p < plugins.size(); ++p) {
        double start = stats(c[p].start).median;
        std::printf(
            "%-10s process start (VERSION call) %.2fms; medians above it: ADD %.2fms, DEL %.2fms\n",
            plugins[p].label.c_str(), start, stats(c[p].add).median - start,
            stats(c[p].del).median - start);
    }
}

}  // namespace bench
