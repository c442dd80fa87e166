#include "runtime/container/cgroup.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "netlib/fd.hpp"
#include "runtime/container/error.hpp"

namespace sdrun {
namespace fs = std::filesystem;

namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

// This process's path in a hierarchy, from /proc/self/cgroup ("4:memory:/a/b", "0::/a").
std::string own_path(CgroupVersion version, const std::string& controller) {
    std::ifstream in("/proc/self/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        auto first = line.find(':');
        auto second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) {
            continue;
        }
        std::string list = line.substr(first + 1, second - first - 1);
        bool match = version == CgroupVersion::v2
                         ? line.rfind("0::", 0) == 0
                         : ("," + list + ",").find("," + controller + ",") != std::string::npos;
        if (match) {
            return line.substr(second + 1);
        }
    }
    throw Error("this process is in no " + controller + " cgroup (/proc/self/cgroup)");
}

// The controllers (v1 hierarchy names) the limits in `r` need.
std::vector<std::string> needed_controllers(const Resources& r, CgroupVersion version) {
    std::vector<std::string> out;
    if (r.memory_limit) {
        out.push_back("memory");
    }
    if (r.pids_limit) {
        out.push_back("pids");
    }
    if (r.cpu_shares || r.cpu_quota) {
        out.push_back("cpu");
    }
    if (r.cpuset_cpus || r.cpuset_mems) {
        out.push_back("cpuset");
    }
    if (r.blkio_weight || !r.device_read_bps.empty() || !r.device_write_bps.empty()) {
        out.push_back(version == CgroupVersion::v1 ? "blkio" : "io");
    }
    return out;
}

std::string read_first_line(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    return line;
}

// The directory "sdrun-<name>" below this process's own cgroup in `controller`'s hierarchy
// (the one v2 hierarchy: controller ignored).
fs::path dir_in(CgroupVersion version, const std::string& controller, const std::string& name) {
    fs::path base =
        version == CgroupVersion::v2 ? fs::path(kCgroupRoot) : fs::path(kCgroupRoot) / controller;
    return base / fs::path(own_path(version, controller)).relative_path() / ("sdrun-" + name);
}

}  // namespace

// Retried while the kernel still counts exiting tasks (EBUSY right after the last exit).
// Up to 10 s: on a loaded machine the last tasks of a killed pid namespace can take that long,
// and giving up leaks the cgroup.
bool remove_cgroup_dir(const fs::path& dir) {
    for (int attempt = 0; attempt < 10000; ++attempt) {
        if (rmdir(dir.c_str()) == 0 || errno == ENOENT) {
            return true;
        }
        if (errno != EBUSY) {
            return false;
        }
        usleep(1000);
    }
    return false;
}

std::vector<fs::path> cgroup_dirs(const std::string& name, const Resources& resources) {
    auto version = detect_cgroup_version();
    auto controllers = needed_controllers(resources, version);
    if (version == CgroupVersion::v2) {
        return controllers.empty() ? std::vector<fs::path>{}
                                   : std::vector<fs::path>{dir_in(version, "", name)};
    }
    std::vector<fs::path> out;
    for (const auto& c : controllers) {
        out.push_back(dir_in(version, c, name));
    }
    return out;
}

CgroupVersion detect_cgroup_version() {
    struct statfs st = {};
    if (statfs(kCgroupRoot, &st) != 0) {
        throw system_error(std::string("cannot inspect ") + kCgroupRoot, errno);
    }
    if (st.f_type == CGROUP2_SUPER_MAGIC) {
        return CgroupVersion::v2;
    }
    if (st.f_type == TMPFS_MAGIC) {
        return CgroupVersion::v1;
    }
    throw Error(std::string(kCgroupRoot) + " is neither cgroup2 nor a tmpfs of v1 hierarchies");
}

Cgroup::Cgroup(const std::string& name, const Resources& r)
    : version_(detect_cgroup_version()), controllers_(needed_controllers(r, version_)) {
    try {
        if (version_ == CgroupVersion::v2 && !controllers_.empty()) {
            make("", name);
        }
        for (const auto& c : controllers_) {
            if (version_ == CgroupVersion::v1) {
                make(c, name);
            }
        }
        write_memory(r);
        if (r.pids_limit) {
            write("pids", "pids.max", std::to_string(*r.pids_limit));
        }
        write_cpu(r);
        write_cpuset(r);
        write_io(r);
    } catch (...) {
        for (const auto& d : dirs_) {
            (void)remove_cgroup_dir(d);
        }
        throw;
    }
}

void Cgroup::write_memory(const Resources& r) {
    if (!r.memory_limit) {
        return;
    }
    auto limit = *r.memory_limit;
    // No swap on top of the limit unless --memory-swap says otherwise (docker's default would
    // be 2x memory); -1: swap unlimited.
    auto total = r.memory_swap.value_or(limit);
    if (version_ == CgroupVersion::v2) {
        write("memory", "memory.max", std::to_string(limit));
        write("memory", "memory.swap.max", total < 0 ? "max" : std::to_string(total - limit));
        return;
    }
    // memory.limit_in_bytes first: memsw may never be below it.
    write("memory", "memory.limit_in_bytes", std::to_string(limit));
    if (fs::exists(dir_of("memory") / "memory.memsw.limit_in_bytes")) {
        write("memory", "memory.memsw.limit_in_bytes", std::to_string(total < 0 ? -1 : total));
    } else if (r.memory_swap) {
        throw Error("--memory-swap needs swap accounting (no memory.memsw.limit_in_bytes)");
    }
}

// v1 leaves a new cpuset empty, and a process cannot join an empty one: what is not given is
// copied from the parent. v2 inherits the parent's when the files are left alone.
void Cgroup::write_cpuset(const Resources& r) {
    if (!uses("cpuset")) {
        return;
    }
    auto parent = dir_of("cpuset").parent_path();
    for (const auto& [file, value] :
         {std::pair{"cpuset.cpus", r.cpuset_cpus}, std::pair{"cpuset.mems", r.cpuset_mems}}) {
        if (value) {
            write("cpuset", file, *value);
        } else if (version_ == CgroupVersion::v1) {
            write("cpuset", file, read_first_line(parent / file));
        }
    }
}

void Cgroup::write_io(const Resources& r) {
    bool v1 = version_ == CgroupVersion::v1;
    if (r.blkio_weight) {
        // v2 weight from the v1 range 10..1000 as runc converts it (1..10000).
        auto weight = v1 ? *r.blkio_weight : 1 + ((*r.blkio_weight - 10) * 9999) / 990;
        auto file = v1 ? "blkio.weight" : "io.weight";
        if (!fs::exists(dir_of(v1 ? "blkio" : "io") / file)) {
            throw Error(std::string("--blkio-weight needs a proportional I/O scheduler (BFQ "
                                    "or iocost): this kernel has no ") +
                        file);
        }
        write(v1 ? "blkio" : "io", file,
              v1 ? std::to_string(weight) : "default " + std::to_string(weight));
    }
    // "MAJ:MIN RATE" into the v1 throttle file; "MAJ:MIN rbps=RATE" (or wbps) into v2's io.max.
    auto limit = [&](const std::vector<DeviceRate>& rates, const char* v1_file, const char* key) {
        for (const auto& d : rates) {
            auto dev = std::to_string(d.major) + ":" + std::to_string(d.minor);
            auto rate = std::to_string(d.bytes_per_second);
            if (v1) {
                write("blkio", v1_file, dev + " " + rate);
            } else {
                write("io", "io.max", dev + " " + key + "=" + rate);
            }
        }
    };
    limit(r.device_read_bps, "blkio.throttle.read_bps_device", "rbps");
    limit(r.device_write_bps, "blkio.throttle.write_bps_device", "wbps");
}

void Cgroup::write_cpu(const Resources& r) {
    bool v1 = version_ == CgroupVersion::v1;
    if (r.cpu_shares) {
        // v2 weight from v1 shares as runc converts them (1..10000 from 2..262144).
        auto value = v1 ? *r.cpu_shares : 1 + ((*r.cpu_shares - 2) * 9999) / 262142;
        write("cpu", v1 ? "cpu.shares" : "cpu.weight", std::to_string(value));
    }
    if (!r.cpu_quota) {
        return;
    }
    auto quota = std::to_string(*r.cpu_quota);
    auto period = std::to_string(r.cpu_period.value_or(100000));
    if (v1) {
        write("cpu", "cpu.cfs_period_us", period);
        write("cpu", "cpu.cfs_quota_us", quota);
    } else {
        write("cpu", "cpu.max", quota + " " + period);
    }
}

Cgroup::~Cgroup() {
    for (const auto& d : dirs_) {
        (void)remove_cgroup_dir(d);
    }
}

fs::path Cgroup::make(const std::string& controller, const std::string& name) {
    auto dir = dir_in(version_, controller, name);
    if (version_ == CgroupVersion::v2) {
        enable_controllers(dir.parent_path());
    }
    if (mkdir(dir.c_str(), 0755) != 0) {
        throw system_error("cannot create cgroup " + dir.string(), errno);
    }
    dirs_.push_back(dir);
    return dir;
}

// On v2 a child has a controller's files only when its parent lists it in
// cgroup.subtree_control.
void Cgroup::enable_controllers(const fs::path& parent) const {
    std::ifstream in(parent / "cgroup.controllers");
    std::set<std::string> offered{std::istream_iterator<std::string>(in),
                                  std::istream_iterator<std::string>()};
    for (const auto& c : controllers_) {
        if (offered.count(c) == 0) {
            throw Error("cgroup " + parent.string() + " does not offer the " + c + " controller");
        }
        std::ofstream out(parent / "cgroup.subtree_control");
        out << "+" << c << std::flush;
        if (!out) {
            throw Error("cannot enable the " + c + " controller in " + parent.string() +
                        "/cgroup.subtree_control");
        }
    }
}

fs::path Cgroup::dir_of(const std::string& controller) const {
    for (std::size_t i = 0; i < controllers_.size(); ++i) {
        if (controllers_[i] == controller) {
            return dirs_.at(version_ == CgroupVersion::v2 ? 0 : i);
        }
    }
    throw Error("no " + controller + " cgroup");
}

bool Cgroup::uses(const std::string& controller) const {
    return std::find(controllers_.begin(), controllers_.end(), controller) != controllers_.end();
}

void Cgroup::write(const std::string& controller, const std::string& file,
                   const std::string& value) {
    auto path = dir_of(controller) / file;
    std::ofstream out(path);
    out << value << std::flush;
    if (!out) {
        throw Error("cgroup " + path.string() + " refused \"" + value + "\"");
    }
}

// v1: the calling thread alone, through `tasks`: the kernel then skips the threadgroup lock,
// whose writer waits for an RCU grace period (5-20 ms here, the largest single cost of a run
// before this). The caller is single-threaded, so the thread is the process. v2 has no such
// path (cgroup.threads needs a threaded subtree): cgroup.procs.
void Cgroup::join() const {
    const char* file = version_ == CgroupVersion::v1 ? "tasks" : "cgroup.procs";
    for (const auto& d : dirs_) {
        auto path = d / file;
        netlib::Fd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd || ::write(fd.get(), "0", 1) != 1) {
            throw system_error("cannot join the cgroup " + d.string(), errno);
        }
    }
}

bool Cgroup::oom_killed() const {
    if (!uses("memory")) {
        return false;
    }
    std::ifstream in(dir_of("memory") /
                     (version_ == CgroupVersion::v1 ? "memory.oom_control" : "memory.events"));
    std::string key;
    long long value = 0;
    while (in >> key >> value) {
        if (key == "oom_kill" && value > 0) {
            return true;
        }
    }
    return false;
}

}  // namespace sdrun
