#pragma once

#include <csignal>
#include <string>
#include <string_view>

#include "ipam/crash_point.hpp"

// Arms ipam::crash_point in a process under test: at the `hit`-th arrival at `point` the process
// stops itself (SIGSTOP), and the test, which waits for exactly that event (waitid WSTOPPED),
// kills it there. No timing is involved anywhere.
namespace ipam::test {

namespace crash_hook_detail {
inline std::string point;
inline int remaining = 0;

inline void stop_here(std::string_view reached) {
    if (reached == point && --remaining == 0) {
        ::raise(SIGSTOP);
    }
}
}  // namespace crash_hook_detail

inline void arm_crash_point(std::string_view point, int hit) {
    crash_hook_detail::point = point;
    crash_hook_detail::remaining = hit;
    crash_point::set_hook(crash_hook_detail::stop_here);
}

// The environment variable the test build of host-local reads: "<point>:<hit>".
inline constexpr const char* kCrashPointEnv = "SDNET_CRASH_POINT";

inline std::string crash_host_local() {
    return SDNET_BUILD_DIR "/tests/ipam/host-local-crashpoints";
}

}  // namespace ipam::test
