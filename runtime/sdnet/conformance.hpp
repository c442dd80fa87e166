#pragma once

#include <functional>
#include <string>
#include <vector>

// A black-box CNI conformance suite: runs the plugin binaries of a directory, as a runtime
// would, in private network and mount namespaces, and checks what the spec (SPEC.md) requires of
// them. Nothing here prints; each finished check is handed to a callback.
namespace sdnet::conformance {

enum class Outcome { Pass, Fail, NotApplicable };

const char* to_string(Outcome o);

struct CheckResult {
    std::string plugin;  // "bridge"
    std::string check;   // "del twice"
    Outcome outcome = Outcome::Pass;
    std::string detail;
};

struct Options {
    std::string plugin_dir;
    std::vector<std::string> only;  // plugin types; empty: every known type present in the dir
};

// The plugin types the suite knows how to drive, in the order they are run.
const std::vector<std::string>& known_plugins();

// Moves the calling process into new network and mount namespaces with private tmpfs on
// /run/netns, /var/lib/cni and /run/cni, so nothing the plugins do reaches the machine. Must be
// called before any thread starts. Throws std::runtime_error (needs root).
void enter_private_namespaces();

// Runs every check for the selected plugins; `report` is called as each one finishes.
std::vector<CheckResult> run(const Options& opts,
                             const std::function<void(const CheckResult&)>& report);

}  // namespace sdnet::conformance
