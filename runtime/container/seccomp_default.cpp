// The default seccomp profile, modelled on docker's (moby profiles/seccomp/default.json): what a
// container commonly needs is allowed, everything else fails with EPERM. Syscalls whose use needs
// a capability are allowed only when the process holds it, so dropping a capability also closes
// the kernel code behind it.
#include <algorithm>

#include <sched.h>

#include <linux/capability.h>

#include "runtime/container/seccomp.hpp"

namespace sdrun {
namespace {

// clang-format off
const std::vector<std::string> kAlwaysAllowed = {
    // files and directories
    "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "creat", "dup",
    "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr",
    "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futimesat", "getcwd", "getdents", "getdents64", "getxattr", "lchown",
    "lchown32", "lgetxattr", "link", "linkat", "listxattr", "llistxattr", "_llseek",
    "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "mkdir", "mkdirat", "mknod",
    "mknodat", "newfstatat", "open", "openat", "openat2", "pread64", "preadv", "preadv2",
    "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv",
    "removexattr", "rename", "renameat", "renameat2", "rmdir", "setxattr", "stat", "stat64",
    "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
    "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "write", "writev", "copy_file_range", "sendfile",
    "sendfile64", "splice", "tee", "vmsplice", "fanotify_mark", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "cachestat",
    // memory
    "brk", "madvise", "membarrier", "memfd_create", "mincore", "mlock", "mlock2", "mlockall",
    "mmap", "mmap2", "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap",
    "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages", "map_shadow_stack",
    // processes, threads, signals
    "arch_prctl", "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork",
    "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake",
    "get_robust_list", "get_thread_area", "getcpu", "getegid", "getegid32", "geteuid",
    "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getpgid", "getpgrp",
    "getpid", "getppid", "getpriority", "getresgid", "getresgid32", "getresuid",
    "getresuid32", "getrlimit", "getrusage", "getsid", "gettid", "getuid", "getuid32",
    "ioprio_get", "ioprio_set", "kill", "modify_ldt", "pause", "pidfd_open",
    "pidfd_send_signal", "prctl", "prlimit64", "process_mrelease", "ptrace", "restart_syscall",
    "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
    "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
    "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
    "set_robust_list", "set_thread_area", "set_tid_address", "setfsgid", "setfsgid32",
    "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setpgid",
    "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid", "setuid", "setuid32",
    "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "tgkill", "tkill",
    "ugetrlimit", "vfork", "wait4", "waitid", "waitpid", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self",
    // time
    "adjtimex", "alarm", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "getitimer", "gettimeofday", "nanosleep", "setitimer", "time",
    "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
    "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    // waiting for events
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "_newselect",
    "pipe", "pipe2", "poll", "ppoll", "ppoll_time64", "pselect6", "pselect6_time64", "select",
    "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
    "io_setup", "io_submit",
    // sockets (socket itself below: no AF_VSOCK)
    "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt",
    "listen", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg",
    "sendmsg", "sendto", "setsockopt", "shutdown", "socketcall", "socketpair",
    // System V and POSIX IPC (the container has its own ipc namespace)
    "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl",
    "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget",
    // information
    "getrandom", "ioctl", "sysinfo", "uname",
};

// What each capability adds. CAP_SYS_ADMIN's list is what namespaces and mounts are made of.
const std::vector<std::pair<int, std::vector<std::string>>> kByCapability = {
    {CAP_SYS_ADMIN, {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
                     "fspick", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
                     "name_to_handle_at", "open_tree", "perf_event_open", "quotactl",
                     "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
                     "umount2", "unshare"}},
    {CAP_SYS_BOOT, {"reboot"}},
    {CAP_SYS_CHROOT, {"chroot"}},
    {CAP_SYS_MODULE, {"delete_module", "init_module", "finit_module"}},
    {CAP_SYS_PACCT, {"acct"}},
    {CAP_SYS_PTRACE, {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                      "process_vm_writev"}},
    {CAP_SYS_RAWIO, {"iopl", "ioperm"}},
    {CAP_SYS_TIME, {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
    {CAP_SYS_TTY_CONFIG, {"vhangup"}},
    {CAP_SYS_NICE, {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
    {CAP_SYSLOG, {"syslog"}},
    {CAP_DAC_READ_SEARCH, {"open_by_handle_at"}},
    {CAP_BPF, {"bpf"}},
    {CAP_PERFMON, {"perf_event_open"}},
};
// clang-format on

constexpr std::uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                                          CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
                                          CLONE_NEWCGROUP;

bool holds(const std::vector<int>& caps, int cap) {
    return std::find(caps.begin(), caps.end(), cap) != caps.end();
}

SeccompRule allow(std::vector<std::string> names, std::vector<SeccompArg> args = {}) {
    return {std::move(names), SeccompAction::allow, std::nullopt, std::move(args)};
}

}  // namespace

Seccomp default_seccomp(const std::vector<int>& caps) {
    Seccomp s;
    s.default_action = SeccompAction::errno_ret;
    s.default_errno = EPERM;
    // Native syscalls only. docker adds the x86 and x32 tables, which makes libseccomp's
    // compilation 20 times slower (10 ms instead of 0.5 ms per run, measured here); a 32-bit
    // program is killed at its first syscall instead. A profile file can list them.
    s.syscalls.push_back(allow(kAlwaysAllowed));
    // Any socket but AF_VSOCK (40), which reaches the hypervisor rather than the network.
    s.syscalls.push_back(allow({"socket"}, {{0, 40, 0, SeccompOp::ne}}));
    // personality: only the harmless personas (Linux, UNAME26, READ_IMPLIES_EXEC, query).
    for (std::uint64_t persona : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL}) {
        s.syscalls.push_back(allow({"personality"}, {{0, persona, 0, SeccompOp::eq}}));
    }
    for (const auto& [cap, names] : kByCapability) {
        if (holds(caps, cap)) {
            s.syscalls.push_back(allow(names));
        }
    }
    if (!holds(caps, CAP_SYS_ADMIN)) {
        // Threads and processes, but no new namespaces. clone3 passes its flags in memory,
        // which a filter cannot read: ENOSYS makes libc fall back to clone.
        s.syscalls.push_back(allow({"clone"}, {{0, kNamespaceFlags, 0, SeccompOp::masked_eq}}));
        s.syscalls.push_back({{"clone3"}, SeccompAction::errno_ret, ENOSYS, {}});
    }
    return s;
}

}  // namespace sdrun
