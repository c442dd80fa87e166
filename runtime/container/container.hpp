#pragma once

#include <string>

#include "runtime/container/spec.hpp"

// Running a Spec: the library's entry point for `sdrun run` (and later the OCI bundle commands).
namespace sdrun {

struct RunResult {
    int exit_code = 0;  // the process's status, or 128 + signal when a signal killed it
    int signal = 0;     // the killing signal, 0 if it exited
    bool oom_killed = false;
};

// Creates the cgroup, clones the container's process into new namespaces, sets it up (mounts,
// pivot_root, hostname, masks, capabilities, user), execs spec.process.args and waits for it.
// The signals of kForwardedSignals (init.hpp) sent to the caller are forwarded to its PID 1
// meanwhile; with process.terminal the caller's stdio is relayed to the container's pty.
// `name` names the cgroup ("sdrun-<name>"). Throws sdrun::Error (ExecError when the command
// cannot be executed) after undoing everything; nothing stays mounted on the host in any case:
// every mount lives in the container's mount namespace.
RunResult run_container(const Spec& spec, const std::string& name);

}  // namespace sdrun
