#pragma once

#include <csignal>

#include <sys/types.h>

// The container's PID 1 when the command should not be: a tiny init (like docker's tini) that
// reaps orphaned zombies and passes the signals a user sends on to the command. It is its own
// static executable (sdrun-init) so that it runs from a read-only mount inside the container,
// where a dynamic sdrun could not find its libraries.
namespace sdrun {

// Passed on to the command by sdrun (to the container's PID 1) and by the init (to the command).
inline constexpr int kForwardedSignals[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                            SIGUSR1, SIGUSR2, SIGWINCH};

// kForwardedSignals and SIGCHLD: blocked before the init's fork, so none is lost while it execs
// (blocked signals stay pending across execve, and a pid namespace's init would drop unhandled
// ones).
sigset_t init_signals();

// The init's loop: forwards each signal to `command`, reaps every child, and exits with the
// command's status (128 + N when signal N killed it) once it has ended; the kernel then kills
// what is left in the pid namespace. Never returns.
[[noreturn]] void run_init(pid_t command);

}  // namespace sdrun
