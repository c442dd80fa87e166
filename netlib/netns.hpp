#pragma once

#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "netlib/fd.hpp"

namespace netlib {

// A handle on a network namespace: an O_CLOEXEC fd on an nsfs file (/run/netns/<name>,
// /proc/<pid>/ns/net). Holding it keeps the namespace alive. Move-only.
class Netns {
public:
    // Opens `path` and checks it is a namespace file (statfs magic NSFS_MAGIC or, on old
    // kernels, PROC_SUPER_MAGIC) of type CLONE_NEWNET. Throws Error ("open netns <path>: ...").
    [[nodiscard]] static Netns open(const std::string& path);
    // As open(), but nullopt when `path` does not exist or is not a network namespace (a DEL
    // for a container whose namespace is already gone). Other failures (EACCES, ...) throw.
    [[nodiscard]] static std::optional<Netns> try_open(const std::string& path);
    // The calling thread's network namespace (/proc/thread-self/ns/net).
    [[nodiscard]] static Netns current();
    // The network namespace of process `pid`.
    [[nodiscard]] static Netns of_pid(pid_t pid);

    int fd() const noexcept { return fd_.get(); }

    const std::string& path() const noexcept { return path_; }

    // True when both handles refer to the same namespace (st_dev and st_ino match).
    [[nodiscard]] bool same_as(const Netns& other) const;

private:
    Netns(Fd fd, std::string path) noexcept : fd_(std::move(fd)), path_(std::move(path)) {}

    Fd fd_;
    std::string path_;
};

// Moves the calling thread into `target` for the guard's lifetime (setns(CLONE_NEWNET)) and
// back into the thread's previous namespace on destruction. If switching back fails the
// process aborts: a thread left in a container's namespace would silently act on the wrong
// network. Never use on a thread pool thread. The constructor throws Error if setns fails.
class NetnsGuard {
public:
    explicit NetnsGuard(const Netns& target);
    ~NetnsGuard();
    NetnsGuard(const NetnsGuard&) = delete;
    NetnsGuard& operator=(const NetnsGuard&) = delete;
    NetnsGuard(NetnsGuard&&) = delete;
    NetnsGuard& operator=(NetnsGuard&&) = delete;

private:
    Netns saved_;
};

// Where named namespaces live, as with `ip netns`.
inline constexpr const char* kNetnsRunDir = "/run/netns";

// Creates the named namespace /run/netns/<name> the way `ip netns add` does: /run/netns is made
// a shared mount point (so the bind mount propagates into mount namespaces created later), the
// file is created with O_EXCL (Error EEXIST if present), a short-lived thread unshares a new
// network namespace and bind-mounts its ns file over the file. Returns the path. Throws
// InvalidInput for names that are empty, ".", ".." or contain '/'.
[[nodiscard]] std::string create_named_netns(const std::string& name);
// Unmounts (MNT_DETACH) and unlinks /run/netns/<name>; false if it did not exist.
bool remove_named_netns(const std::string& name);
// Names under /run/netns, sorted; empty when the directory does not exist.
[[nodiscard]] std::vector<std::string> list_named_netns();

}  // namespace netlib
