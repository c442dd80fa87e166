#include "netlib/netns.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/nsfs.h>

#include "netlib/c_ptr.hpp"
#include "netlib/error.hpp"

namespace netlib {
namespace {

constexpr const char* kOpOpen = "open netns";

std::string hex(unsigned long v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lx", v);
    return buf;
}

// Why `fd` is not a network namespace file, or empty if it is one.
std::string not_netns_reason(int fd) {
    struct statfs fs {};

    if (::fstatfs(fd, &fs) == -1) {
        return std::string{"fstatfs: "} + std::strerror(errno);
    }
    auto magic = static_cast<unsigned long>(fs.f_type);
    if (magic != NSFS_MAGIC && magic != PROC_SUPER_MAGIC) {
        return "unknown FS magic 0x" + hex(magic) + ", not a namespace file";
    }
    // NS_GET_NSTYPE exists since 4.11; an older kernel (ENOTTY) gets the benefit of the doubt.
    int type = ::ioctl(fd, NS_GET_NSTYPE);
    if (type == -1 && magic == PROC_SUPER_MAGIC) {
        return {};
    }
    if (type == -1 && errno != ENOTTY) {
        return std::string{"NS_GET_NSTYPE: "} + std::strerror(errno);
    }
    if (type != -1 && type != CLONE_NEWNET) {
        return "namespace file is not a network namespace";
    }
    return {};
}

void check_name(const std::string& name) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
        throw InvalidInput("invalid netns name \"" + name + "\"");
    }
}

std::string named_path(const std::string& name) {
    check_name(name);
    return std::string{kNetnsRunDir} + "/" + name;
}

// iproute2 netns_add: make the run dir a shared mount point, bind-mounting it on itself first
// if it is not a mount point yet (MS_SHARED on a non-mount-point fails with EINVAL).
void make_run_dir_shared() {
    if (::mkdir(kNetnsRunDir, 0755) == -1 && errno != EEXIST) {
        throw Error(errno, "mkdir", kNetnsRunDir);
    }
    bool made_mount = false;
    while (::mount("", kNetnsRunDir, "none", MS_SHARED | MS_REC, nullptr) == -1) {
        if (errno != EINVAL || made_mount) {
            throw Error(errno, "mount --make-rshared", kNetnsRunDir);
        }
        check_errno(::mount(kNetnsRunDir, kNetnsRunDir, "none", MS_BIND | MS_REC, nullptr),
                    "mount --rbind", kNetnsRunDir);
        made_mount = true;
    }
}

// Runs on a throwaway thread so the caller's thread never leaves its namespace: unshare gives
// this thread a new network namespace, which the bind mount keeps alive after the thread ends.
int unshare_and_bind(const std::string& path, std::string& failed_op) {
    if (::unshare(CLONE_NEWNET) == -1) {
        failed_op = "unshare(CLONE_NEWNET)";
        return errno;
    }
    std::string self = "/proc/self/task/" + std::to_string(::gettid()) + "/ns/net";
    if (::mount(self.c_str(), path.c_str(), "none", MS_BIND, nullptr) == -1) {
        failed_op = "mount --bind " + self;
        return errno;
    }
    return 0;
}

}  // namespace

Netns Netns::open(const std::string& path) {
    Fd fd = Fd::open(path, O_RDONLY);
    if (auto why = not_netns_reason(fd.get()); !why.empty()) {
        throw Error(EINVAL, kOpOpen, path, why);
    }
    return Netns{std::move(fd), path};
}

std::optional<Netns> Netns::try_open(const std::string& path) {
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw == -1) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return std::nullopt;
        }
        throw Error(errno, kOpOpen, path);
    }
    Fd fd{raw};
    if (!not_netns_reason(fd.get()).empty()) {
        return std::nullopt;
    }
    return Netns{std::move(fd), path};
}

Netns Netns::current() {
    // The calling thread's own netns: nothing to validate (two syscalls less than open()).
    const std::string path = "/proc/thread-self/ns/net";
    return Netns{Fd::open(path, O_RDONLY), path};
}

Netns Netns::of_pid(pid_t pid) {
    return open("/proc/" + std::to_string(pid) + "/ns/net");
}

bool Netns::same_as(const Netns& other) const {
    struct stat a {};

    struct stat b {};

    check_errno(::fstat(fd(), &a), "fstat", path_);
    check_errno(::fstat(other.fd(), &b), "fstat", other.path_);
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

NetnsGuard::NetnsGuard(const Netns& target) : saved_(Netns::current()) {
    check_errno(::setns(target.fd(), CLONE_NEWNET), "setns", target.path());
}

NetnsGuard::~NetnsGuard() {
    if (::setns(saved_.fd(), CLONE_NEWNET) == -1) {
        // Continuing would run the rest of the program in the wrong namespace.
        std::fprintf(stderr, "netlib: cannot return to netns %s: %s\n", saved_.path().c_str(),
                     std::strerror(errno));
        std::abort();
    }
}

std::string create_named_netns(const std::string& name) {
    std::string path = named_path(name);
    make_run_dir_shared();
    int raw = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    check_errno(raw, "create netns", path);
    ::close(raw);

    int err = 0;
    std::string failed_op;
    std::thread worker([&] { err = unshare_and_bind(path, failed_op); });
    worker.join();
    if (err != 0) {
        ::unlink(path.c_str());
        throw Error(err, failed_op, path);
    }
    return path;
}

bool remove_named_netns(const std::string& name) {
    std::string path = named_path(name);
    // EINVAL: not a mount point (a half-created file); the unlink below still cleans it up.
    if (::umount2(path.c_str(), MNT_DETACH) == -1 && errno != EINVAL && errno != ENOENT) {
        throw Error(errno, "umount", path);
    }
    if (::unlink(path.c_str()) == -1) {
        if (errno == ENOENT) {
            return false;
        }
        throw Error(errno, "unlink", path);
    }
    return true;
}

std::vector<std::string> list_named_netns() {
    std::vector<std::string> names;
    CPtr<DIR, &::closedir> dir{::opendir(kNetnsRunDir)};
    if (!dir) {
        if (errno == ENOENT) {
            return names;
        }
        throw Error(errno, "opendir", kNetnsRunDir);
    }
    while (const dirent* e = ::readdir(dir.get())) {
        std::string n = e->d_name;
        if (n != "." && n != "..") {
            names.push_back(std::move(n));
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace netlib
