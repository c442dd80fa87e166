#pragma once

#include <gtest/gtest.h>
#include <map>
#include <string>

#include "netlib/netns.hpp"

namespace sdnet::test {

// A named network namespace under the fixture's private /run/netns.
struct TestNetns {
    std::string name;
    std::string path;
    netlib::Netns ns;
};

// Puts the test process into a fresh network namespace and a private mount namespace (so every
// TEST, which ctest runs as its own process, starts from a clean kernel state and leaves
// nothing behind, even when it crashes):
//   - unshare(CLONE_NEWNET | CLONE_NEWNS), then / is made rprivate;
//   - private tmpfs on /run/netns, /var/lib/cni and /run/cni (a missing mount point directory
//     is created first, empty, as a CNI installation would);
//   - lo is brought up.
// Without the privilege (EPERM) the test is skipped, unless SDNET_REQUIRE_NETNS=1, then it fails.
class NetnsTest : public ::testing::Test {
protected:
    void SetUp() override;

    // Creates /run/netns/<prefix>-<pid>-<n> (unique within the process) with
    // netlib::create_named_netns and returns its name, path and an open handle.
    TestNetns make_netns(const std::string& prefix);
};

struct CmdResult {
    int exit_code = -1;  // -1 if killed by a signal
    int signal = 0;
    std::string out;
    std::string err;
};

// Runs `binary` as a CNI runtime does: exactly `env` as its environment, `stdin_data` on stdin;
// captures stdout, stderr and the exit status. The child inherits the caller's namespaces.
CmdResult run_plugin(const std::string& binary, const std::map<std::string, std::string>& env,
                     const std::string& stdin_data);

// SDNET_BUILD_DIR "/cni/" + name: where the build puts plugin executables.
std::string plugin_path(const std::string& name);

}  // namespace sdnet::test
