#include "runtime/container/container.hpp"

#include <cerrno>
#include <csignal>
#include <utility>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netlib/fd.hpp"
#include "runtime/container/cgroup.hpp"
#include "runtime/container/error.hpp"
#include "runtime/container/init.hpp"
#include "runtime/container/pty.hpp"
#include "runtime/container/sealed_binary.hpp"
#include "runtime/container/setup.hpp"

namespace sdrun {
namespace {

constexpr int kExitRuntimeError = 125;  // as the setup's own failures

volatile sig_atomic_t g_container_pid = 0;

void forward_signal(int sig) {
    if (g_container_pid > 0) {
        kill(g_container_pid, sig);
    }
}

// Forwards kForwardedSignals (init.hpp) to the container while it lives; restores the old
// handlers.
class SignalForwarder {
public:
    explicit SignalForwarder(pid_t pid) {
        g_container_pid = pid;

        struct sigaction sa = {};
        sa.sa_handler = forward_signal;
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < std::size(kForwardedSignals); ++i) {
            sigaction(kForwardedSignals[i], &sa, &old_[i]);
        }
    }

    SignalForwarder(const SignalForwarder&) = delete;
    SignalForwarder& operator=(const SignalForwarder&) = delete;

    ~SignalForwarder() {
        for (std::size_t i = 0; i < std::size(kForwardedSignals); ++i) {
            sigaction(kForwardedSignals[i], &old_[i], nullptr);
        }
        g_container_pid = 0;
    }

private:
    struct sigaction old_[std::size(kForwardedSignals)]{};
};

struct Pipe {
    netlib::Fd read;
    netlib::Fd write;
};

Pipe make_pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        throw system_error("pipe failed", errno);
    }
    return {netlib::Fd(fds[0]), netlib::Fd(fds[1])};
}

int clone_flags(const Spec& spec) {
    int flags = 0;
    for (auto ns : spec.namespaces) {
        switch (ns) {
            case Namespace::pid:
                flags |= CLONE_NEWPID;
                break;
            case Namespace::mount:
                flags |= CLONE_NEWNS;
                break;
            case Namespace::uts:
                flags |= CLONE_NEWUTS;
                break;
            case Namespace::ipc:
                flags |= CLONE_NEWIPC;
                break;
            case Namespace::network:
                flags |= CLONE_NEWNET;
                break;
        }
    }
    return flags;
}

int wait_status(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            throw system_error("waitpid failed", errno);
        }
    }
    return status;
}

// The cloned child until it has been waited for: killed and reaped if setup is abandoned.
class Child {
public:
    explicit Child(pid_t pid) : pid_(pid) {}

    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    ~Child() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            wait_status(pid_);
        }
    }

    pid_t pid() const { return pid_; }

    int wait() {
        int status = wait_status(pid_);
        pid_ = 0;
        return status;
    }

private:
    pid_t pid_;
};

// Tells the child to go on. False when it is gone already (it failed its setup, or was killed):
// its pipe end is closed then, and the EPIPE must not kill this process with SIGPIPE, which
// would skip every cleanup (the cgroup, the container's directory). SIGPIPE is blocked around
// the write and a pending one taken back, so the caller's signal dispositions stay as they were.
bool release_child(int fd) {
    sigset_t pipe_only;
    sigset_t old;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    char go = 1;
    ssize_t n = write(fd, &go, 1);
    int err = errno;
    if (n < 0 && err == EPIPE) {
        timespec now{};
        (void)sigtimedwait(&pipe_only, nullptr, &now);
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (n == 1) {
        return true;
    }
    if (err == EPIPE) {
        return false;
    }
    throw system_error("cannot start the container", err);
}

std::string read_all(int fd) {
    std::string out;
    char buf[512];
    ssize_t n = 0;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno != EINTR) {
            break;
        }
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
        }
    }
    return out;
}

// The child's report "<errno> <message>": errno is set only when execve failed.
[[noreturn]] void throw_setup_error(const std::string& report) {
    auto space = report.find(' ');
    int err = std::atoi(report.substr(0, space).c_str());
    auto message = space == std::string::npos ? report : report.substr(space + 1);
    if (err != 0) {
        throw ExecError(message, err);
    }
    throw Error(message);
}

// A connected pair of AF_UNIX sockets of `type`: the parent's end and the child's.
std::pair<netlib::Fd, netlib::Fd> socket_pair(int type) {
    int fds[2];
    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) {
        throw system_error("socketpair failed", errno);
    }
    return {netlib::Fd(fds[0]), netlib::Fd(fds[1])};
}

// What the child needs besides the spec, opened here so that a missing init fails before
// anything is created.
struct ChildResources {
    netlib::Fd init;
    std::pair<netlib::Fd, netlib::Fd> console;  // the pty master comes over it
    std::pair<netlib::Fd, netlib::Fd> seccomp;  // the seccomp program goes over it

    explicit ChildResources(const Spec& spec) {
        if (!spec.process.init.empty()) {
            init = open_sealed_binary(spec.process.init);
        }
        if (spec.process.terminal) {
            console = socket_pair(SOCK_STREAM);
        }
        if (spec.seccomp) {
            seccomp = socket_pair(SOCK_SEQPACKET);
        }
    }

    // After the clone: the parent keeps its ends only.
    void close_child_ends() {
        console.second.reset();
        seccomp.second.reset();
    }
};

// Relays the pty the child sends until the container's PID 1 has ended.
void relay_terminal(const ChildResources& res, pid_t pid) {
    auto master = receive_console(res.console.first.get());
    netlib::Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (master && pidfd) {
        relay_console(master.get(), pidfd.get());
    }
}

// The child joins its cgroup itself, first, before anything of the container runs.
pid_t clone_child(const Spec& spec, const Cgroup& cgroup, Pipe& sync, Pipe& errors,
                  ChildResources& res) {
    // A raw clone acts like fork with new namespaces; this process is single-threaded.
    auto pid = static_cast<pid_t>(
        syscall(SYS_clone, clone_flags(spec) | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
    if (pid < 0) {
        throw system_error("cannot create the container's namespaces", errno);
    }
    if (pid == 0) {
        sync.write.reset();
        errors.read.reset();
        res.console.first.reset();
        res.seccomp.first.reset();
        try {
            cgroup.join();
        } catch (const std::exception& e) {
            std::string report = std::string("0 ") + e.what();
            (void)!write(errors.write.get(), report.data(), report.size());
            _exit(kExitRuntimeError);
        }
        container_main(spec, {sync.read.get(), errors.write.get(), res.console.second.get(),
                              res.init.get(), res.seccomp.second.get()});
    }
    return pid;
}

}  // namespace

RunResult run_container(const Spec& spec, const std::string& name) {
    if (spec.process.args.empty()) {
        throw Error("no command to run");
    }
    ChildResources res(spec);
    Cgroup cgroup(name, spec.resources);
    auto sync = make_pipe();
    auto errors = make_pipe();
    Child child(clone_child(spec, cgroup, sync, errors, res));
    sync.read.reset();
    errors.write.reset();
    res.close_child_ends();
    SignalForwarder forwarder(child.pid());
    // The child reports a failure of its setup whether released or not; one killed from
    // outside reports nothing, and its status is the result.
    if (release_child(sync.write.get()) && spec.seccomp) {
        // Built while the child mounts its root: off the critical path.
        send_seccomp_program(res.seccomp.first.get(), *spec.seccomp);
    }
    auto report = read_all(errors.read.get());
    if (!report.empty()) {
        child.wait();
        throw_setup_error(report);
    }
    if (spec.process.terminal) {
        relay_terminal(res, child.pid());
    }
    int status = child.wait();
    RunResult result;
    if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
        result.exit_code = 128 + result.signal;
    } else {
        result.exit_code = WEXITSTATUS(status);
    }
    result.oom_killed = cgroup.oom_killed();
    return result;
}

}  // namespace sdrun
