#include "runtime/container/pty.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <termios.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/container/error.hpp"

namespace sdrun {
namespace {

// A message carrying one fd (SCM_RIGHTS) beside `size` bytes at `data`; not copyable (msg points
// into it).
struct FdMessage {
    FdMessage(void* data, std::size_t size) : iov{data, size} {
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
    }

    FdMessage(const FdMessage&) = delete;
    FdMessage& operator=(const FdMessage&) = delete;

    iovec iov;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
};

void send_fd(int socket_fd, int fd, std::string payload) {
    FdMessage m(payload.data(), payload.size());
    cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(socket_fd, &m.msg, MSG_NOSIGNAL) < 0) {
        throw system_error("cannot pass the console to sdrun", errno);
    }
}

bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// Copies what `from` has now to `to`; false at its end (EOF, or EIO once no slave is open).
bool copy_once(int from, int to) {
    char buf[8192];
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return true;
    }
    return n > 0 && write_all(to, buf, static_cast<std::size_t>(n));
}

// The caller's terminal in raw mode while it lives: keys reach the container's pty unprocessed.
class RawMode {
public:
    explicit RawMode(int fd) : fd_(fd), active_(isatty(fd) == 1 && tcgetattr(fd, &saved_) == 0) {
        if (active_) {
            termios raw = saved_;
            cfmakeraw(&raw);
            tcsetattr(fd_, TCSANOW, &raw);
        }
    }

    RawMode(const RawMode&) = delete;
    RawMode& operator=(const RawMode&) = delete;

    ~RawMode() {
        if (active_) {
            tcsetattr(fd_, TCSANOW, &saved_);
        }
    }

private:
    int fd_;
    termios saved_{};
    bool active_;
};

// Gives the container's pty the size of the caller's terminal when it differs from `last`.
// Called on SIGWINCH (poll's EINTR) and before input is passed on, so a resize is seen in
// whichever order the signal and the next keys arrive.
void follow_window_size(int master, winsize& last) {
    winsize size{};
    if (ioctl(0, TIOCGWINSZ, &size) != 0 && ioctl(1, TIOCGWINSZ, &size) != 0) {
        return;
    }
    if (size.ws_row != last.ws_row || size.ws_col != last.ws_col) {
        ioctl(master, TIOCSWINSZ, &size);
        last = size;
    }
}

}  // namespace

void attach_console(int socket_fd, uid_t uid) {
    netlib::Fd master(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    int unlock = 0;
    int number = 0;
    if (!master || ioctl(master.get(), TIOCSPTLCK, &unlock) != 0 ||
        ioctl(master.get(), TIOCGPTN, &number) != 0) {
        throw system_error("cannot open a pty in the container", errno);
    }
    netlib::Fd slave(ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave || fchown(slave.get(), uid, static_cast<gid_t>(-1)) != 0) {
        throw system_error("cannot open the pty's slave", errno);
    }
    // The caller's size from its stdio, still ours: the command may run before sdrun relays.
    winsize size{};
    follow_window_size(master.get(), size);
    send_fd(socket_fd, master.get(), "/dev/pts/" + std::to_string(number));
    for (int fd = 0; fd < 3; ++fd) {
        if (dup2(slave.get(), fd) < 0) {
            throw system_error("cannot make the pty the container's stdio", errno);
        }
    }
}

void take_controlling_terminal() {
    if (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) != 0) {
        throw system_error("cannot make the pty the controlling terminal", errno);
    }
}

netlib::Fd receive_console(int socket_fd) {
    char payload[256];
    FdMessage m(payload, sizeof payload);
    ssize_t n = 0;
    while ((n = recvmsg(socket_fd, &m.msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
    }
    cmsghdr* c = n > 0 ? CMSG_FIRSTHDR(&m.msg) : nullptr;
    if (c == nullptr || c->cmsg_type != SCM_RIGHTS) {
        return {};
    }
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return netlib::Fd(fd);
}

void relay_console(int master, int pidfd) {
    RawMode raw(0);
    winsize size{};
    follow_window_size(master, size);
    pollfd fds[] = {{master, POLLIN, 0}, {pidfd, POLLIN, 0}, {0, POLLIN, 0}};
    nfds_t count = 3;
    for (;;) {
        if (poll(fds, count, -1) < 0) {
            if (errno == EINTR) {
                follow_window_size(master, size);
                continue;
            }
            throw system_error("poll on the console failed", errno);
        }
        if (fds[0].revents != 0 && !copy_once(master, 1)) {
            fds[0].fd = -1;  // no slave left open: nothing more will come
        }
        if (count == 3 && fds[2].revents != 0) {
            follow_window_size(master, size);
            if (!copy_once(0, master)) {
                count = 2;  // stdin ended: the container keeps its terminal
            }
        }
        if (fds[1].revents != 0) {
            break;
        }
    }
    // The process has ended: what it wrote is still in the pty.
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    char buf[8192];
    for (ssize_t n = 0; (n = read(master, buf, sizeof buf)) > 0;) {
        write_all(1, buf, static_cast<std::size_t>(n));
    }
}

}  // namespace sdrun
