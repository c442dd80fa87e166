#pragma once

#include <filesystem>
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

// A tarball written entry by entry (pax format, uncompressed), hostile entries included.
class Tarball {
public:
    explicit Tarball(fs::path file);
    Tarball(const Tarball&) = delete;
    Tarball& operator=(const Tarball&) = delete;
    ~Tarball();

    void file(const std::string& path, const std::string& content);
    void dir(const std::string& path);
    void symlink(const std::string& path, const std::string& target);
    void char_device(const std::string& path, unsigned major, unsigned minor);
    // Finishes the archive; returns its path.
    const fs::path& close();

private:
    void add(const std::string& path, unsigned type, unsigned mode, const std::string& content,
             const std::string& link);

    fs::path path_;
    ::archive* archive_;
};

// Writes <dir>/busybox.tar.gz: /bin/busybox from the host's busybox-static and a relative
// symlink /bin/<applet> -> busybox for each applet (`busybox --install -s` would link to the
// absolute path it runs from, which does not exist inside a container).
fs::path busybox_tarball(const fs::path& dir);

// The sdrun executable with --root `root`.
Outcome sdrun(const fs::path& root, const std::vector<std::string>& args);

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

// "sha256:<hex>" as `sha256sum` computes it (an independent observer of the recorded digest).
std::string sha256sum(const fs::path& file);

}  // namespace sdrun_test
