#include "runtime/container/setup.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <grp.h>

#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/close_range.h>

#include "netlib/fd.hpp"
#include "runtime/container/error.hpp"
#include "runtime/container/init.hpp"
#include "runtime/container/pty.hpp"
#include "runtime/container/rlimits.hpp"
#include "runtime/container/seccomp.hpp"

namespace sdrun {
namespace fs = std::filesystem;

namespace {

constexpr int kSetupFailed = 125;

bool has_namespace(const Spec& spec, Namespace ns) {
    return std::find(spec.namespaces.begin(), spec.namespaces.end(), ns) != spec.namespaces.end();
}

void do_mount(const std::string& source, const fs::path& target, const char* type,
              unsigned long flags, const std::string& data) {
    if (mount(source.c_str(), target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) !=
        0) {
        throw system_error("cannot mount " + source + " on " + target.string(), errno);
    }
}

// `destination` inside `root`, before pivot_root: a symlink on the way would resolve against the
// host's root. The image is not running yet, so such a link is the image's own: refuse it
// (CVE-2019-16884's /proc symlink) rather than follow it.
fs::path inside(const fs::path& root, const std::string& destination) {
    auto path = root;
    for (const auto& part : fs::path(destination).relative_path()) {
        path /= part;
        struct stat st = {};
        if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
            throw Error("mount target " + destination + " is a symlink in the image; refusing it");
        }
    }
    return path;
}

void make_file(const fs::path& path) {
    fs::create_directories(path.parent_path());
    netlib::Fd fd(open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    if (!fd) {
        throw system_error("cannot create " + path.string(), errno);
    }
}

void mount_overlay(const Root& root) {
    const auto& o = *root.overlay;
    std::string lower;
    auto paths = o.lower;
    paths.insert(paths.end(), {o.upper, o.work});
    for (const auto& p : paths) {
        if (p.string().find_first_of(",:") != std::string::npos) {
            throw Error("overlay path " + p.string() + " contains ',' or ':'");
        }
    }
    for (const auto& p : o.lower) {
        lower += (lower.empty() ? "" : ":") + p.string();
    }
    auto data =
        "lowerdir=" + lower + ",upperdir=" + o.upper.string() + ",workdir=" + o.work.string();
    // mount(2) copies at most a page of options: the kernel would cut a longer lowerdir.
    if (data.size() >= static_cast<std::size_t>(sysconf(_SC_PAGESIZE))) {
        throw Error("image has too many layers (" + std::to_string(o.lower.size()) +
                    ") for one overlay mount under this --root");
    }
    do_mount("overlay", root.path, "overlay", 0, data);
}

void mount_spec_mounts(const Spec& spec) {
    for (const auto& m : spec.mounts) {
        auto target = inside(spec.root.path, m.destination);
        if (m.type == "bind") {
            if (fs::is_directory(m.source)) {
                fs::create_directories(target);
            } else {
                make_file(target);
            }
            do_mount(m.source, target, nullptr, MS_BIND | MS_REC, "");
            if ((m.flags & MS_RDONLY) != 0) {
                do_mount("", target, nullptr, MS_BIND | MS_REMOUNT | m.flags, "");
            }
            continue;
        }
        fs::create_directories(target);
        do_mount(m.source, target, m.type.c_str(), m.flags, m.data);
    }
}

// Device nodes bind-mounted from the host (no mknod: the same in a user namespace later),
// plus docker's /dev symlinks.
void populate_dev(const fs::path& root) {
    auto dev = inside(root, "/dev");
    for (const auto& name : default_devices()) {
        make_file(dev / name);
        do_mount("/dev/" + name, dev / name, nullptr, MS_BIND, "");
    }
    const std::pair<const char*, const char*> links[] = {{"ptmx", "pts/ptmx"},
                                                         {"fd", "/proc/self/fd"},
                                                         {"stdin", "/proc/self/fd/0"},
                                                         {"stdout", "/proc/self/fd/1"},
                                                         {"stderr", "/proc/self/fd/2"}};
    for (const auto& [name, target] : links) {
        if (symlink(target, (dev / name).c_str()) != 0 && errno != EEXIST) {
            throw system_error("cannot create /dev/" + std::string(name), errno);
        }
    }
}

// After pivot_root and the read-only and masked paths: a symlink in the image then resolves
// inside the container, and cannot redirect the write into a writable host-wide /proc file.
// The final component is replaced, never followed.
void write_files(const std::vector<GeneratedFile>& files) {
    for (const auto& f : files) {
        fs::path path = f.destination;
        std::error_code ec;
        fs::create_directories(path.parent_path(), ec);
        if (ec) {
            throw Error("cannot write " + f.destination + " in the container: " + ec.message());
        }
        fs::remove(path, ec);
        netlib::Fd fd(
            open(path.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644));
        if (!fd || write(fd.get(), f.content.data(), f.content.size()) !=
                       static_cast<ssize_t>(f.content.size())) {
            throw system_error("cannot write " + f.destination + " in the container", errno);
        }
    }
}

void loopback_up() {
    netlib::Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq req{};
    std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
    if (!sock || ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) {
        throw system_error("cannot read the loopback's flags", errno);
    }
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
    if (ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) {
        throw system_error("cannot bring the loopback up", errno);
    }
}

// pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only the
// container's tree (runc's and crun's way, no temporary directory needed).
void pivot_into(const fs::path& root) {
    netlib::Fd old_root(open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    netlib::Fd new_root(open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (!old_root || !new_root || fchdir(new_root.get()) != 0) {
        throw system_error("cannot open the root " + root.string(), errno);
    }
    if (syscall(SYS_pivot_root, ".", ".") != 0) {
        throw system_error("pivot_root into " + root.string() + " failed", errno);
    }
    if (fchdir(old_root.get()) != 0 ||
        mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0 ||
        umount2(".", MNT_DETACH) != 0 || chdir("/") != 0) {
        throw system_error("cannot detach the old root", errno);
    }
}

void mask_paths(const std::vector<std::string>& paths) {
    for (const auto& p : paths) {
        struct stat st = {};
        if (lstat(p.c_str(), &st) != 0) {
            continue;  // absent on this kernel: nothing to hide
        }
        if (S_ISDIR(st.st_mode)) {
            do_mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0");
        } else {
            do_mount("/dev/null", p, nullptr, MS_BIND, "");
        }
    }
}

void remount_readonly(const std::string& path, bool is_mount_point) {
    if (!is_mount_point) {
        do_mount(path, path, nullptr, MS_BIND | MS_REC, "");
    }
    do_mount("", path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "");
}

void readonly_paths(const std::vector<std::string>& paths) {
    for (const auto& p : paths) {
        if (access(p.c_str(), F_OK) == 0) {
            remount_readonly(p, false);
        }
    }
}

void enter_cwd(const std::string& cwd) {
    if (chdir(cwd.c_str()) != 0) {
        throw system_error("cannot enter the working directory " + cwd, errno);
    }
    // The cwd must resolve inside the new root (CVE-2024-21626: a leaked fd as cwd).
    char buf[PATH_MAX];
    if (getcwd(buf, sizeof buf) == nullptr || buf[0] != '/') {
        throw Error("working directory " + cwd + " is outside the container");
    }
}

bool wanted(const std::vector<int>& caps, int cap) {
    return std::find(caps.begin(), caps.end(), cap) != caps.end();
}

void drop_bounding(const std::vector<int>& caps) {
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
        if (!wanted(caps, cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            throw system_error("cannot drop capability " + std::to_string(cap), errno);
        }
    }
}

void set_capabilities(const std::vector<int>& caps) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    for (int cap : caps) {
        auto bit = 1U << (cap % 32);
        data[cap / 32].effective |= bit;
        data[cap / 32].permitted |= bit;
        data[cap / 32].inheritable |= bit;
    }
    if (syscall(SYS_capset, &header, data) != 0) {
        throw system_error("capset failed", errno);
    }
    for (int cap : caps) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
            throw system_error("cannot raise ambient capability " + std::to_string(cap), errno);
        }
    }
}

// Bounding set first (needs CAP_SETPCAP), then the ids with capabilities kept across setuid,
// then the remaining sets. Seccomp comes last with no_new_privs (its filter then also covers
// the calls above); without it, before capabilities are dropped, as loading then needs
// CAP_SYS_ADMIN.
void become_user(const Process& p, int seccomp_fd) {
    if (p.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        throw system_error("cannot set no_new_privs", errno);
    }
    auto seccomp = seccomp_fd >= 0 ? receive_seccomp_program(seccomp_fd) : std::string();
    if (!seccomp.empty() && !p.no_new_privileges) {
        install_seccomp_program(seccomp);
    }
    drop_bounding(p.capabilities);
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 ||
        setgroups(p.additional_gids.size(), p.additional_gids.data()) != 0 ||
        setresgid(p.gid, p.gid, p.gid) != 0 || setresuid(p.uid, p.uid, p.uid) != 0) {
        throw system_error(
            "cannot switch to uid " + std::to_string(p.uid) + " gid " + std::to_string(p.gid),
            errno);
    }
    set_capabilities(p.capabilities);
    if (!seccomp.empty() && p.no_new_privileges) {
        install_seccomp_program(seccomp);
    }
}

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
    for (const auto& e : env) {
        if (e.rfind(key + "=", 0) == 0) {
            return e.substr(key.size() + 1);
        }
    }
    return "";
}

// execvp's search with the container's PATH. Returns only on failure, with the errno to report
// (EACCES if some candidate existed but was not executable, as execvp does).
[[nodiscard]] int exec_process(const Process& p) {
    std::vector<char*> argv;
    for (const auto& a : p.args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : p.env) {
        envp.push_back(const_cast<char*>(e.c_str()));
    }
    envp.push_back(nullptr);
    const auto& cmd = p.args.at(0);
    if (cmd.find('/') != std::string::npos) {
        execve(cmd.c_str(), argv.data(), envp.data());
        return errno;
    }
    int result = ENOENT;
    auto path = env_value(p.env, "PATH");
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = std::min(path.find(':', start), path.size());
        auto dir = path.substr(start, end - start);
        auto candidate = (dir.empty() ? std::string(".") : dir) + "/" + cmd;
        execve(candidate.c_str(), argv.data(), envp.data());
        if (errno == EACCES) {
            result = EACCES;
        } else if (errno != ENOENT && errno != ENOTDIR) {
            return errno;
        }
        start = end + 1;
    }
    return result;
}

void report(int error_fd, int err, const std::string& message) {
    auto text = std::to_string(err) + " " + message;
    (void)!write(error_fd, text.data(), text.size());
}

// PID 1 forks the command and becomes the init (runtime/container/init.hpp); returns in the
// command's process. The init's copy of the error pipe closes at its exec, so the pipe reports
// the command's exec alone. The command waits for that exec too: until then /proc/1/exe is
// sdrun's own binary, writable on the host (CVE-2019-5736).
void start_init(int init_fd) {
    int exec_done[2];
    if (pipe2(exec_done, O_CLOEXEC) != 0) {
        throw system_error("pipe failed", errno);
    }
    netlib::Fd wait_end(exec_done[0]);
    netlib::Fd exec_end(exec_done[1]);
    sigset_t signals = init_signals();
    sigset_t old;
    sigprocmask(SIG_BLOCK, &signals, &old);
    pid_t command = fork();
    if (command < 0) {
        throw system_error("cannot fork the command", errno);
    }
    if (command == 0) {
        exec_end.reset();
        char byte = 0;
        while (read(wait_end.get(), &byte, 1) < 0 && errno == EINTR) {
        }
        sigprocmask(SIG_SETMASK, &old, nullptr);
        return;
    }
    wait_end.reset();
    auto pid = std::to_string(command);
    std::string name = "sdrun-init";
    char* argv[] = {name.data(), pid.data(), nullptr};
    char* envp[] = {nullptr};
    syscall(SYS_execveat, init_fd, "", argv, envp, AT_EMPTY_PATH);
    int err = errno;
    kill(command, SIGKILL);
    throw system_error("cannot execute the init", err);
}

void set_up(const Spec& spec, const ChildContext& ctx) {
    if (has_namespace(spec, Namespace::uts) && !spec.hostname.empty() &&
        sethostname(spec.hostname.data(), spec.hostname.size()) != 0) {
        throw system_error("cannot set the hostname", errno);
    }
    // Nothing below may propagate to the host's mount namespace.
    do_mount("", "/", nullptr, MS_REC | MS_PRIVATE, "");
    if (spec.root.overlay) {
        mount_overlay(spec.root);
    } else {
        do_mount(spec.root.path, spec.root.path, nullptr, MS_BIND | MS_REC, "");
    }
    mount_spec_mounts(spec);
    populate_dev(spec.root.path);
    if (has_namespace(spec, Namespace::network)) {
        loopback_up();
    }
    pivot_into(spec.root.path);
    readonly_paths(spec.readonly_paths);
    mask_paths(spec.masked_paths);
    write_files(spec.files);
    if (spec.process.terminal) {
        attach_console(ctx.console_fd, spec.process.uid);
    }
    std::error_code ec;
    if (fs::create_directories(spec.process.cwd, ec); ec) {
        throw Error("cannot create the working directory " + spec.process.cwd + ": " +
                    ec.message());
    }
    if (spec.root.readonly) {
        remount_readonly("/", true);
    }
    enter_cwd(spec.process.cwd);
    apply_rlimits(spec.process.rlimits);
    become_user(spec.process, ctx.seccomp_fd);
}

}  // namespace

void container_main(const Spec& spec, const ChildContext& ctx) {
    // The container dies with sdrun rather than run on unsupervised. Set before the sync read:
    // if sdrun died earlier, that read sees EOF.
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    char go = 0;
    if (read(ctx.sync_fd, &go, 1) != 1) {
        _exit(kSetupFailed);  // the parent gave up
    }
    close(ctx.sync_fd);
    try {
        set_up(spec, ctx);
        // Every fd but stdio closes at exec, the error pipe included (CVE-2024-21626).
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
            throw system_error("close_range failed", errno);
        }
        if (ctx.init_fd >= 0) {
            start_init(ctx.init_fd);
        }
        if (spec.process.terminal) {
            take_controlling_terminal();
        }
        int err = exec_process(spec.process);
        report(ctx.error_fd, err, spec.process.args.at(0));
    } catch (const std::exception& e) {
        report(ctx.error_fd, 0, e.what());
    }
    _exit(kSetupFailed);
}

}  // namespace sdrun
