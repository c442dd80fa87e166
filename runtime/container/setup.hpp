#pragma once

#include "runtime/container/spec.hpp"

// The container side of run_container: runs in the cloned child, in its new namespaces.
namespace sdrun {

// Waits for one byte on `sync_fd` (the parent has put the child into its cgroup), sets the
// container up and execs the process. On failure writes "<errno> <message>" to `error_fd`
// (close-on-exec, so a successful exec closes it) and exits 125. Never returns.
[[noreturn]] void container_main(const Spec& spec, int sync_fd, int error_fd);

}  // namespace sdrun
