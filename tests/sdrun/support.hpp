#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "tests/support/fake_plugins.hpp"

// Helpers of the sdrun tests.
struct archive;

namespace sdrun_test {

namespace fs = std::filesystem;
using sdnet::test::Outcome;
using sdnet::test::TempDir;

// A tarball written entry by entry (pax format), hostile entries included.
class Tarball {
public:
    // `filter`: a libarchive compression filter ("gzip", "zstd", ...), none when empty.
    explicit Tarball(fs::path file, const std::string& filter = "");
    Tarball(const Tarball&) = delete;
    Tarball& operator=(const Tarball&) = delete;
    ~Tarball();

    void file(const std::string& path, const std::string& content);
    void dir(const std::string& path);
    void symlink(const std::string& path, const std::string& target);
    void hardlink(const std::string& path, const std::string& target);
    void char_device(const std::string& path, unsigned major, unsigned minor);
    // Finishes the archive; returns its path.
    const fs::path& close();

private:
    void add(const std::string& path, unsigned type, unsigned mode, const std::string& content,
             const std::string& link);

    fs::path path_;
    ::archive* archive_;
};

// Writes <dir>/busybox.tar.gz, the root filesystem of scripts/busybox-image (the host's
// busybox-static with relative applet symlinks), the script scripts/setup makes the default
// image with; `customize`, when given, adds to the root filesystem before it is packed.
fs::path busybox_tarball(const fs::path& dir,
                         const std::function<void(const fs::path& rootfs)>& customize = {});
// Writes <dir>/busybox.tar, that image as scripts/setup makes it: an OCI layout, Cmd ["sh"].
fs::path busybox_image(const fs::path& dir);

// The sdrun executable with --root `root` (and `env` added to the environment).
Outcome sdrun(const fs::path& root, const std::vector<std::string>& args,
              const std::vector<std::string>& env = {});

// sdrun started in the background (stdin /dev/null, stdout and stderr to files), for tests that
// act on a running container. Killed and reaped on destruction if still running.
class Background {
public:
    Background(const fs::path& root, const std::vector<std::string>& args);
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    ~Background();

    pid_t pid() const { return pid_; }

    // Waits for sdrun to exit: its status and output.
    Outcome wait();

private:
    TempDir output_;
    pid_t pid_ = -1;
};

// Container `name`'s cgroup directory: in the v1 hierarchy of `controller`, or the one v2
// directory when /sys/fs/cgroup is cgroup2.
fs::path container_cgroup(const std::string& controller, const std::string& name);

// The pids in the cgroup.procs of container `name`'s pids cgroup, once
// at least (`exactly`: exactly) `count` are there; throws after a generous deadline.
std::vector<pid_t> wait_for_container_pids(const std::string& name, std::size_t count,
                                           bool exactly = false);

// A whole-disk block device of this machine (/sys/block/<name> with a /dev/<name> node): its
// path and "MAJ:MIN" (the kernel's own numbers, from /sys/block/<name>/dev).
struct BlockDevice {
    fs::path path;
    std::string numbers;
};

BlockDevice some_block_device();

// CPU time (ms) process `pid` has used, from /proc/<pid>/schedstat (what the cgroup's CPU
// controller charges for a one-process container).
double cpu_time_ms(pid_t pid);

// Whether /proc/locks shows a process waiting for a lock on `file` (sdrun blocked on it).
bool someone_waits_for_lock(const fs::path& file);

// "sha256:<hex>" as `sha256sum` computes it (an independent observer of the recorded digest).
std::string sha256sum(const fs::path& file);

}  // namespace sdrun_test
