#include "tests/sdrun/support.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <chrono>
#include <fstream>
#include <sstream>
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

Tarball::Tarball(fs::path file) : path_(std::move(file)), archive_(archive_write_new()) {
    archive_write_set_format_pax_restricted(archive_);
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

fs::path busybox_tarball(const fs::path& dir) {
    auto rootfs = dir / "busybox-rootfs";
    fs::create_directories(rootfs / "bin");
    fs::copy_file("/bin/busybox", rootfs / "bin/busybox");
    auto list = sdnet::test::run_process({"/bin/busybox", "--list"});
    std::istringstream applets(list.out);
    for (std::string name; std::getline(applets, name);) {
        if (!name.empty() && name != "busybox") {
            fs::create_symlink("busybox", rootfs / "bin" / name);
        }
    }
    auto tarball = dir / "busybox.tar.gz";
    auto tar = sdnet::test::run_process(
        {"/bin/tar", "-C", rootfs.string(), "-czf", tarball.string(), "."});
    if (tar.status != 0) {
        throw std::runtime_error("tar failed: " + tar.err);
    }
    fs::remove_all(rootfs);
    return tarball;
}

Outcome sdrun(const fs::path& root, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {SDRUN_EXE, "--root", root.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return sdnet::test::run_process(argv);
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
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
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

std::string sha256sum(const fs::path& file) {
    auto r = sdnet::test::run_process({"/usr/bin/sha256sum", file.string()});
    return "sha256:" + r.out.substr(0, r.out.find(' '));
}

}  // namespace sdrun_test
