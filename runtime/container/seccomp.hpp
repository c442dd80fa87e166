#pragma once

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Seccomp as the OCI runtime spec describes it (linux.seccomp), the profile docker uses by
// default, docker's JSON profile format, and the filter libseccomp compiles from them.
namespace sdrun {

enum class SeccompAction { allow, errno_ret, kill_thread, kill_process, trap, log };

enum class SeccompOp { ne, lt, le, eq, ge, gt, masked_eq };

struct SeccompArg {
    unsigned index = 0;
    std::uint64_t value = 0;
    std::uint64_t value_two = 0;  // masked_eq: (arg & value) == value_two
    SeccompOp op = SeccompOp::eq;
};

struct SeccompRule {
    std::vector<std::string> names;
    SeccompAction action = SeccompAction::allow;
    std::optional<unsigned> errno_ret;  // errno_ret action: default EPERM
    std::vector<SeccompArg> args;       // all must match (one index twice: either)
};

struct Seccomp {
    SeccompAction default_action = SeccompAction::errno_ret;
    unsigned default_errno = EPERM;
    std::vector<std::string> architectures;  // "x86", "x32", ...: beside the native one
    std::vector<SeccompRule> syscalls;
};

// docker's default profile as a model (moby profiles/seccomp): an allow-list, EPERM for the
// rest, more syscalls for the capabilities that make them meaningful (CAP_SYS_ADMIN: mount,
// unshare, setns, namespace flags of clone; CAP_SYS_PTRACE: process_vm_*, kcmp; CAP_SYS_CHROOT:
// chroot; ...). `caps` are the process's CAP_* numbers.
Seccomp default_seccomp(const std::vector<int>& caps);

// A profile in docker's JSON format: defaultAction, defaultErrnoRet, architectures or archMap,
// syscalls[] with names (or name), action, errnoRet, args[] {index, value, valueTwo, op} and
// includes/excludes by caps and arches. Throws sdrun::Error naming what is wrong.
Seccomp parse_docker_profile(const std::string& json_text, const std::vector<int>& caps);

// A filter as libseccomp builds it from the rules (~0.5 ms for the default profile here).
class SeccompFilter {
public:
    explicit SeccompFilter(const Seccomp& seccomp);
    SeccompFilter(const SeccompFilter&) = delete;
    SeccompFilter& operator=(const SeccompFilter&) = delete;
    ~SeccompFilter();

    // The BPF program; generating it takes another ~1 ms.
    std::string program() const;

private:
    void* ctx_;  // scmp_filter_ctx
};

// sdrun builds the program while the container sets itself up and sends it as one message on a
// SOCK_SEQPACKET socket; the container's process receives and installs it as its last step.
// Sending to a process that has gone is not an error (its exit status tells). Throws
// sdrun::Error.
void send_seccomp_program(int socket_fd, const Seccomp& seccomp);

// Installs the program on the calling thread. Needs no_new_privs or CAP_SYS_ADMIN.
void install_seccomp_program(const std::string& program);

// The program sdrun sent; throws sdrun::Error when none came.
std::string receive_seccomp_program(int socket_fd);

}  // namespace sdrun
