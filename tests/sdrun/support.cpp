#include "tests/sdrun/support.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <chrono>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sdrun_test {

Tarball::Tarball(fs::path file, const std::string& filter)
    : path_(std::move(file)), archive_(archive_write_new()) {
    archive_write_set_format_pax_restricted(archive_);
    if (!filter.empty() &&
        archive_write_add_filter_by_name(archive_, filter.c_str()) != ARCHIVE_OK) {
        throw std::runtime_error("libarchive cannot write " + filter);
    }
    if (archive_write_open_filename(archive_, path_.c_str()) != ARCHIVE_OK) {
        throw std::runtime_error("cannot write " + path_.string());
    }
}

Tarball::~Tarball() {
    archive_write_free(archive_);
}

void Tarball::add(const std::string& path, unsigned type, unsigned mode, const std::string& content,
                  const std::string& link) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    if (!link.empty()) {
        archive_entry_set_symlink(e, link.c_str());
    }
    archive_write_header(archive_, e);
    archive_write_data(archive_, content.data(), content.size());
    archive_entry_free(e);
}

void Tarball::file(const std::string& path, const std::string& content) {
    add(path, AE_IFREG, 0644, content, "");
}

void Tarball::dir(const std::string& path) {
    add(path, AE_IFDIR, 0755, "", "");
}

void Tarball::symlink(const std::string& path, const std::string& target) {
    add(path, AE_IFLNK, 0777, "", target);
}

void Tarball::hardlink(const std::string& path, const std::string& target) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_hardlink(e, target.c_str());
    archive_write_header(archive_, e);
    archive_entry_free(e);
}

void Tarball::char_device(const std::string& path, unsigned major, unsigned minor) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, AE_IFCHR);
    archive_entry_set_perm(e, 0666);
    archive_entry_set_rdev(e, makedev(major, minor));
    archive_write_header(archive_, e);
    archive_entry_free(e);
}

const fs::path& Tarball::close() {
    archive_write_close(archive_);
    return path_;
}

namespace {

fs::path busybox_image_script(const std::vector<std::string>& options, const fs::path& out) {
    std::vector<std::string> argv = {SDRUN_BUSYBOX_IMAGE};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(out.string());
    auto r = sdnet::test::run_process(argv);
    if (r.status != 0) {
        throw std::runtime_error("scripts/busybox-image failed: " + r.err);
    }
    return out;
}

}  // namespace

fs::path busybox_tarball(const fs::path& dir,
                         const std::function<void(const fs::path& rootfs)>& customize) {
    fs::create_directories(dir);
    auto tarball = busybox_image_script({"--rootfs"}, dir / "busybox.tar.gz");
    if (!customize) {
        return tarball;
    }
    auto rootfs = dir / "busybox-rootfs";
    fs::create_directories(rootfs);
    auto unpack =
        sdnet::test::run_process({"/bin/tar", "-C", rootfs.string(), "-xzf", tarball.string()});
    if (unpack.status != 0) {
        throw std::runtime_error("tar -x failed: " + unpack.err);
    }
    customize(rootfs);
    auto pack = sdnet::test::run_process(
        {"/bin/tar", "-C", rootfs.string(), "-czf", tarball.string(), "."});
    if (pack.status != 0) {
        throw std::runtime_error("tar -c failed: " + pack.err);
    }
    fs::remove_all(rootfs);
    return tarball;
}

fs::path busybox_image(const fs::path& dir) {
    return busybox_image_script({}, dir / "busybox.tar");
}

Outcome sdrun(const fs::path& root, const std::vector<std::string>& args,
              const std::vector<std::string>& env) {
    std::vector<std::string> argv = {SDRUN_EXE, "--root", root.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return sdnet::test::run_process(argv, env);
}

Background::Background(const fs::path& root, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {SDRUN_EXE, "--root", root.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> argv_p;
    for (const auto& a : argv) {
        argv_p.push_back(const_cast<char*>(a.c_str()));  // NOLINT: POSIX API
    }
    argv_p.push_back(nullptr);
    auto out = (output_ / "out").string();
    auto err = (output_ / "err").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT, 0600);
    int rc = posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, argv_p.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("posix_spawn sdrun failed");
    }
}

Background::~Background() {
    if (pid_ <= 0) {
        return;
    }
    // Never waited for: a test that failed on the way. An sdrun that ended on its own says why.
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
        std::cerr << "background sdrun ended on its own (wait status " << status
                  << "); its stderr: " << sdnet::test::read_file(output_ / "err") << "\n";
        return;
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
}

Outcome Background::wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    Outcome r;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = sdnet::test::read_file(output_ / "out");
    r.err = sdnet::test::read_file(output_ / "err");
    return r;
}

namespace {

std::vector<pid_t> read_pids(const fs::path& procs) {
    std::vector<pid_t> out;
    std::ifstream in(procs);
    for (pid_t pid = 0; in >> pid;) {
        out.push_back(pid);
    }
    return out;
}

}  // namespace

fs::path container_cgroup(const std::string& controller, const std::string& name) {
    bool v2 = fs::exists("/sys/fs/cgroup/cgroup.controllers");
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);) {
        auto first = line.find(':');
        auto second = line.find(':', first + 1);
        auto list = "," + line.substr(first + 1, second - first - 1) + ",";
        bool match = v2 ? list == ",," : list.find("," + controller + ",") != std::string::npos;
        if (match) {
            return fs::path("/sys/fs/cgroup") / (v2 ? "" : controller) /
                   fs::path(line.substr(second + 1)).relative_path() / ("sdrun-" + name);
        }
    }
    throw std::runtime_error("no " + controller + " cgroup hierarchy");
}

std::vector<pid_t> wait_for_container_pids(const std::string& name, std::size_t count,
                                           bool exactly) {
    auto procs = container_cgroup("pids", name) / "cgroup.procs";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        auto pids = read_pids(procs);
        if (exactly ? pids.size() == count : pids.size() >= count) {
            return pids;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("container " + name + " never had " + std::to_string(count) +
                             " processes in " + procs.string());
}

BlockDevice some_block_device() {
    for (const auto& entry : fs::directory_iterator("/sys/block")) {
        auto node = fs::path("/dev") / entry.path().filename();
        struct stat st = {};
        if (stat(node.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
            std::ifstream in(entry.path() / "dev");
            std::string numbers;
            in >> numbers;
            return {node, numbers};
        }
    }
    throw std::runtime_error("no block device with a node in /dev");
}

double cpu_time_ms(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
    double ns = -1;
    in >> ns;
    if (ns < 0) {
        throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/schedstat");
    }
    return ns / 1e6;
}

bool someone_waits_for_lock(const fs::path& file) {
    struct stat st = {};
    if (stat(file.c_str(), &st) != 0) {
        return false;
    }
    std::ifstream in("/proc/locks");  // "2: -> FLOCK ADVISORY WRITE <pid> <maj>:<min>:<ino> ..."
    auto inode = ":" + std::to_string(st.st_ino) + " ";
    for (std::string line; std::getline(in, line);) {
        if (line.find("->") != std::string::npos && line.find(inode) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::string sha256sum(const fs::path& file) {
    auto r = sdnet::test::run_process({"/usr/bin/sha256sum", file.string()});
    return "sha256:" + r.out.substr(0, r.out.find(' '));
}

}  // namespace sdrun_test
