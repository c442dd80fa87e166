#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

#include "runtime/container/spec.hpp"

// A container's cgroup, created with its limits and removed on destruction. The version is
// detected at run time from the filesystem type of /sys/fs/cgroup: cgroup2 = unified (v2);
// tmpfs = v1 hierarchies, also on hybrid hosts whose cgroup2 mount at unified/ has no
// controllers. Only the controllers a limit needs are used (each v1 directory costs time).
namespace sdrun {

enum class CgroupVersion { v1, v2 };

CgroupVersion detect_cgroup_version();

// The directories Cgroup(name, resources) creates, known before it does (for a state record).
std::vector<std::filesystem::path> cgroup_dirs(const std::string& name, const Resources& resources);

// rmdir of a container's cgroup directory once its last tasks are gone (waits up to 10 s for
// exiting ones). True when it is gone (absent included).
bool remove_cgroup_dir(const std::filesystem::path& dir);

class Cgroup {
public:
    // Creates `name` under this process's own cgroup in each needed hierarchy and writes the
    // limits. Throws sdrun::Error naming the file that refused a value; nothing is left then.
    Cgroup(const std::string& name, const Resources& resources);
    Cgroup(const Cgroup&) = delete;
    Cgroup& operator=(const Cgroup&) = delete;
    // Removes the directories (the processes must be gone).
    ~Cgroup();

    // Moves the calling process (single-threaded: a freshly cloned child) into the cgroup.
    void join() const;
    // Whether the memory limit's OOM killer killed a process of this cgroup.
    bool oom_killed() const;

    const std::vector<std::filesystem::path>& dirs() const { return dirs_; }

private:
    std::filesystem::path make(const std::string& controller, const std::string& name);
    void enable_controllers(const std::filesystem::path& parent) const;
    void write_memory(const Resources& r);
    void write_cpu(const Resources& r);
    void write_cpuset(const Resources& r);
    void write_io(const Resources& r);
    void write(const std::string& controller, const std::string& file, const std::string& value);
    std::filesystem::path dir_of(const std::string& controller) const;
    bool uses(const std::string& controller) const;

    CgroupVersion version_;
    std::vector<std::string> controllers_;
    std::vector<std::filesystem::path> dirs_;  // parallel to controllers_ on v1; one on v2
};

}  // namespace sdrun
