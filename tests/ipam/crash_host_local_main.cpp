// host-local for the crash tests only (never installed): the plugin, plus the crash point named
// by SDNET_CRASH_POINT="<point>:<hit>" armed (tests/ipam/crash_hook.hpp). The release plugin has
// no such switch: nothing in it arms a crash point.
#include <cstdlib>
#include <string>

#include "ipam/host_local.hpp"
#include "plugins/cni/skel.hpp"
#include "tests/ipam/crash_hook.hpp"

int main(int argc, char** argv) {
    if (const char* spec = std::getenv(ipam::test::kCrashPointEnv)) {
        std::string s = spec;
        auto colon = s.rfind(':');
        ipam::test::arm_crash_point(s.substr(0, colon), std::atoi(s.c_str() + colon + 1));
    }
    return cni::main(ipam::host_local_plugin(), argc, argv, "crash-test");
}
