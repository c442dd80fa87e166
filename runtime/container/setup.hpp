#pragma once

#include "runtime/container/spec.hpp"

// The container side of run_container: runs in the cloned child, in its new namespaces.
namespace sdrun {

// What the cloned child is handed besides the spec.
struct ChildContext {
    int sync_fd = -1;     // one byte: the parent has put the child into its cgroup
    int error_fd = -1;    // "<errno> <message>" on failure; close-on-exec
    int console_fd = -1;  // process.terminal: where the pty master goes
    int init_fd = -1;     // process.init opened by open_sealed_binary
    int seccomp_fd = -1;  // spec.seccomp: where its program comes (send_seccomp_program)
};

// Waits for the sync byte, sets the container up and execs the process (after starting the
// init as PID 1 when there is one). On failure writes the report to `error_fd` and exits 125.
// Never returns.
[[noreturn]] void container_main(const Spec& spec, const ChildContext& ctx);

}  // namespace sdrun
