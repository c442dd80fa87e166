#pragma once

#include "netlib/fd.hpp"

// `sdrun run -t`: a pty made in the container's own devpts (so its number and permissions are
// the container's), its master handed to sdrun over a socket as runc's --console-socket does.
namespace sdrun {

// In the container, after pivot_root: opens a new pty, sends the master over `socket_fd` and
// makes the slave (owned by `uid`) stdin, stdout and stderr. Throws sdrun::Error.
void attach_console(int socket_fd, uid_t uid);

// In the command's process just before exec: a new session whose controlling terminal is the
// pty on fd 0.
void take_controlling_terminal();

// sdrun's side: the master the container sent; an invalid Fd if it ended before sending one.
netlib::Fd receive_console(int socket_fd);

// Copies the caller's stdin to `master` and `master` to its stdout until the process behind
// `pidfd` has ended and the master is drained. The window size of the caller's terminal is
// passed on, at the start and when it changes; the caller's stdin is in raw mode meanwhile when
// it is a terminal (restored after).
void relay_console(int master, int pidfd);

}  // namespace sdrun
