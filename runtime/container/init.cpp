#include "runtime/container/init.hpp"

#include <cerrno>

#include <sys/wait.h>
#include <unistd.h>

namespace sdrun {

sigset_t init_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kForwardedSignals) {
        sigaddset(&set, sig);
    }
    sigaddset(&set, SIGCHLD);
    return set;
}

namespace {

[[noreturn]] void exit_like(int status) {
    _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

// Reaps every child that has ended (one SIGCHLD may stand for several).
void reap(pid_t command) {
    for (;;) {
        int status = 0;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0) {
            return;
        }
        if (pid == command) {
            exit_like(status);
        }
    }
}

}  // namespace

void run_init(pid_t command) {
    sigset_t set = init_signals();
    sigprocmask(SIG_BLOCK, &set, nullptr);
    reap(command);  // the command may have ended before this process was ready
    for (;;) {
        siginfo_t info{};
        int sig = sigwaitinfo(&set, &info);
        if (sig == SIGCHLD) {
            reap(command);
        } else if (sig > 0) {
            kill(command, sig);
        } else if (errno != EINTR) {
            _exit(125);
        }
    }
}

}  // namespace sdrun
