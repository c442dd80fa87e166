#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "runtime/container/seccomp.hpp"

// What the library executes: a subset of the OCI runtime spec's config.json (process, root,
// hostname, mounts, linux.namespaces, linux.resources, masked/readonly paths, capabilities).
namespace sdrun {

// A resource limit (RLIMIT_* number) set before the process runs; RLIM_INFINITY = unlimited.
struct Rlimit {
    int resource;
    std::uint64_t soft;
    std::uint64_t hard;
};

struct Process {
    std::vector<std::string> args;  // args[0] is looked up in the PATH of `env`, as execvp does
    std::vector<std::string> env;   // "KEY=VALUE"
    std::string cwd = "/";          // created when missing, as docker does for -w
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> additional_gids;
    std::vector<int> capabilities;  // CAP_* numbers: bounding, permitted, effective,
                                    // inheritable and ambient sets alike
    bool no_new_privileges = true;
    std::vector<Rlimit> rlimits;
    // A pty from the container's devpts as stdin, stdout, stderr and controlling terminal; the
    // caller's stdio is relayed to it.
    bool terminal = false;
    // A static init binary run as PID 1 (reaps zombies, forwards signals to the command), from
    // a read-only clone of its mount so the container cannot write it; empty: the command is
    // PID 1.
    std::filesystem::path init;
};

// An OverlayFS root: mounted at Root::path inside the container's mount namespace, so it is
// never visible on the host and goes away with the namespace.
struct Overlay {
    std::vector<std::filesystem::path> lower;  // the image's layers, top first (lowerdir order)
    std::filesystem::path upper;
    std::filesystem::path work;
};

struct Root {
    std::filesystem::path path;  // absolute
    bool readonly = false;
    std::optional<Overlay> overlay;
};

struct Mount {
    std::string destination;  // absolute, inside the container
    std::string type;         // "proc", "tmpfs", "bind", ...
    std::string source;
    unsigned long flags = 0;  // MS_* flags
    std::string data;         // filesystem options, e.g. "mode=755"
};

enum class Namespace { pid, mount, uts, ipc, network };

// A block device's bandwidth limit (blkio throttle on v1, io.max on v2).
struct DeviceRate {
    unsigned major = 0;
    unsigned minor = 0;
    std::int64_t bytes_per_second = 0;
};

struct Resources {
    std::optional<std::int64_t> memory_limit;  // bytes
    std::optional<std::int64_t> memory_swap;   // memory + swap, bytes; -1 unlimited;
                                               // default: memory_limit (no swap on top)
    std::optional<std::int64_t> pids_limit;
    std::optional<std::int64_t> cpu_shares;  // v1 shares; v2 gets the converted weight
    std::optional<std::int64_t> cpu_quota;   // microseconds per period
    std::optional<std::int64_t> cpu_period;  // microseconds
    std::optional<std::string> cpuset_cpus;  // "0-1,3"; v1 copies the parent's when unset
    std::optional<std::string> cpuset_mems;
    std::optional<std::int64_t> blkio_weight;  // 10..1000; v2 gets the converted io.weight
    std::vector<DeviceRate> device_read_bps;
    std::vector<DeviceRate> device_write_bps;
};

// A file the runtime writes and bind-mounts (/etc/hostname, /etc/hosts, /etc/resolv.conf).
struct GeneratedFile {
    std::string destination;
    std::string content;
};

struct Spec {
    Process process;
    std::string hostname;
    Root root;
    std::vector<Mount> mounts;  // mounted in order, before pivot_root
    std::vector<Namespace> namespaces;
    Resources resources;
    std::vector<std::string> masked_paths;
    std::vector<std::string> readonly_paths;
    std::vector<GeneratedFile> files;
    std::optional<Seccomp> seccomp;  // loaded last before exec; nullopt: unconfined
};

// docker's defaults: every namespace above, proc/sys/dev/devpts/shm/mqueue mounts, runc's masked
// and read-only paths, docker's 14 capabilities, no_new_privs, PATH and HOME for root.
Spec default_spec();

// docker's default capability set (moby daemon/pkg/oci/caps/defaults.go).
std::vector<int> default_capabilities();

// The device nodes bind-mounted from the host into the container's /dev tmpfs.
const std::vector<std::string>& default_devices();

}  // namespace sdrun
