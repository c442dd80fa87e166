// `sdrun run --rm busybox true` against crun, runc and podman on the same busybox rootfs, and
// the `unshare` floor, interleaved in one run.
//
//   sudo build/release/bench/sdrun/sdrun_run_bench [rounds=100] [podman every Nth round=10, 0:
//   never]
//
// Every runtime pays for the same work in its timed path: an OverlayFS root over the busybox
// rootfs with a fresh upper/work dir (sdrun mounts its own; for crun and runc the bench mounts
// it before and unmounts and removes it after the call, as podman's storage does for podman),
// a 64 MiB memory limit (memory+swap alike), pid/mount/uts/ipc/net namespaces. Rounds run the
// runtimes in a rotating order so all see the same machine state. Reported per runtime: wall
// time (spawn to reaped) median and p90, and the peak RSS of the runtime process (wait4's
// ru_maxrss: the process and the descendants it reaped, i.e. the container's init too, but not
// podman's conmon, which podman does not wait for).
//
// Everything runs in a private mount namespace: /sys/fs/cgroup/unified is covered by a tmpfs
// (crun 1.8 refuses a hybrid cgroup layout whose v2 mount it can see), /var/lib gets a private
// overlay (podman writes a blob cache under /var/lib/containers whatever --root says), and the
// runtimes' state lives in a temporary directory. Cgroups are created under this process's own.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/common/latency.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kMemoryLimit = "64m";
constexpr long long kMemoryBytes = 64LL << 20;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "sdrun_run_bench: %s\n", what.c_str());
    std::exit(1);
}

struct Sample {
    double ms = 0;
    long maxrss_kib = 0;
};

// Runs argv (stdout and stderr to `log`), waits with wait4: wall time and peak RSS.
Sample spawn_and_wait(const std::vector<std::string>& argv, const fs::path& log) {
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));  // NOLINT: POSIX API
    }
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    auto t0 = Clock::now();
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        die("cannot run " + argv[0]);
    }
    int status = 0;
    rusage usage{};
    while (wait4(pid, &status, 0, &usage) < 0) {
    }
    Sample s{std::chrono::duration<double, std::milli>(Clock::now() - t0).count(), usage.ru_maxrss};
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::ifstream in(log);
        std::string out{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        std::string cmd;
        for (const auto& a : argv) {
            cmd += a + " ";
        }
        die(cmd + "failed: " + out);
    }
    return s;
}

void must_mount(const char* source, const fs::path& target, const char* type, unsigned long flags,
                const std::string& data) {
    if (::mount(source, target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0) {
        die("mount " + target.string() + ": " + std::strerror(errno));
    }
}

// The private mount namespace described at the top.
void enter_bench_namespace(const fs::path& work) {
    if (::unshare(CLONE_NEWNS) != 0) {
        die("unshare (run as root)");
    }
    must_mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, "");
    if (fs::exists("/sys/fs/cgroup/unified/cgroup.controllers")) {
        must_mount("tmpfs", "/sys/fs/cgroup/unified", "tmpfs", 0, "");
    }
    fs::create_directories(work);
    must_mount("tmpfs", work, "tmpfs", 0, "mode=0755");
    for (const auto* sub : {"varlib/upper", "varlib/work", "state", "tmp", "bundle/rootfs"}) {
        fs::create_directories(work / sub);
    }
    must_mount("overlay", "/var/lib", "overlay", 0,
               "lowerdir=/var/lib,upperdir=" + (work / "varlib/upper").string() +
                   ",workdir=" + (work / "varlib/work").string());
    fs::create_directories("/var/lib/containers");
    must_mount("tmpfs", "/var/lib/containers", "tmpfs", 0, "mode=0755");
}

// The busybox rootfs every runtime runs: /bin/busybox from busybox-static and relative links.
void make_rootfs(const fs::path& rootfs) {
    fs::create_directories(rootfs / "bin");
    fs::copy_file("/bin/busybox", rootfs / "bin/busybox");
    for (const auto* applet : {"true", "sh", "echo"}) {
        fs::create_symlink("busybox", rootfs / "bin" / applet);
    }
    for (const auto* dir : {"proc", "sys", "dev", "etc", "tmp"}) {
        fs::create_directories(rootfs / dir);
    }
}

std::vector<std::string> docker_capabilities() {
    return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
            "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
            "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
            "CAP_KILL",    "CAP_AUDIT_WRITE"};
}

// `runc spec`'s bundle made equivalent to sdrun's defaults: `true`, no terminal, a writable
// root, docker's capabilities, the memory limit, no /sys/fs/cgroup mount (sdrun has none).
void write_bundle_config(const fs::path& bundle, const fs::path& log) {
    spawn_and_wait({"runc", "spec", "--bundle", bundle.string()}, log);
    nlohmann::json spec;
    std::ifstream(bundle / "config.json") >> spec;
    auto& process = spec["process"];
    process["terminal"] = false;
    process["args"] = {"true"};
    process.erase("rlimits");
    for (const auto* set : {"bounding", "effective", "permitted", "ambient", "inheritable"}) {
        process["capabilities"][set] = docker_capabilities();
    }
    spec["root"] = {{"path", "rootfs"}, {"readonly", false}};
    spec["hostname"] = "bench";
    auto& mounts = spec["mounts"];
    mounts.erase(std::remove_if(
                     mounts.begin(), mounts.end(),
                     [](const nlohmann::json& m) { return m["destination"] == "/sys/fs/cgroup"; }),
                 mounts.end());
    spec["linux"]["resources"]["memory"] = {{"limit", kMemoryBytes}, {"swap", kMemoryBytes}};
    std::ofstream(bundle / "config.json") << spec.dump(2);
}

// crun or runc on the bundle: overlay mounted, the runtime run, overlay unmounted and its
// upper/work dirs removed, all timed.
Sample run_oci(const std::string& runtime, const fs::path& work, const fs::path& lower, int n) {
    auto t0 = Clock::now();
    auto dir = work / ("ovl-" + std::to_string(n));
    fs::create_directories(dir / "upper");
    fs::create_directories(dir / "work");
    auto rootfs = work / "bundle/rootfs";
    must_mount("overlay", rootfs, "overlay", 0,
               "lowerdir=" + lower.string() + ",upperdir=" + (dir / "upper").string() +
                   ",workdir=" + (dir / "work").string());
    auto s = spawn_and_wait({runtime, "--root", (work / "state" / runtime).string(), "run",
                             "--bundle", (work / "bundle").string(), runtime + std::to_string(n)},
                            work / "log");
    if (::umount2(rootfs.c_str(), 0) != 0) {
        die("umount " + rootfs.string());
    }
    fs::remove_all(dir);
    s.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    return s;
}

// A hard limit podman may ask for: rootful podman asks for more than this machine allows.
rlim_t hard_limit(int resource, rlim_t cap) {
    rlimit l{};
    ::getrlimit(resource, &l);
    return std::min(l.rlim_max, cap);
}

// podman's private configuration: cgroupfs, file events and locks, crun as its runtime.
void write_podman_conf(const fs::path& work) {
    auto nofile = std::to_string(hard_limit(RLIMIT_NOFILE, 1048576));
    auto nproc = std::to_string(hard_limit(RLIMIT_NPROC, 32768));
    std::ofstream(work / "containers.conf")
        << "[containers]\ndefault_ulimits = [\"nofile=" << nofile << ":" << nofile
        << "\", \"nproc=" << nproc << ":" << nproc << "\"]\n"
        << "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
           "lock_type = \"file\"\nruntime = \"crun\"\ntmp_dir = \""
        << (work / "tmp").string() << "\"\n";
    ::setenv("CONTAINERS_CONF", (work / "containers.conf").c_str(), 1);
    ::unsetenv("XDG_RUNTIME_DIR");
}

std::vector<std::string> podman(const fs::path& work, std::vector<std::string> args) {
    std::vector<std::string> argv = {"podman",
                                     "--root",
                                     (work / "podman/root").string(),
                                     "--runroot",
                                     (work / "podman/runroot").string(),
                                     "--storage-driver",
                                     "overlay"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

// podman's parent cgroup and what conmon made in it, in each v1 hierarchy, deepest first.
void remove_cgroup_tree(const std::string& name) {
    for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup")) {
        auto top = hierarchy.path() / fs::path(name).relative_path();
        if (!fs::is_directory(top)) {
            continue;
        }
        std::vector<fs::path> dirs{top};
        for (const auto& e : fs::recursive_directory_iterator(top)) {
            if (e.is_directory()) {
                dirs.push_back(e.path());
            }
        }
        std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
            return a.string().size() > b.string().size();
        });
        for (const auto& d : dirs) {
            ::rmdir(d.c_str());
        }
    }
}

struct Runtime {
    std::string label;
    int every;  // rounds between two samples
    std::function<Sample(int)> run;
    std::vector<Sample> samples;
};

double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[static_cast<std::size_t>(q * double(v.size() - 1))];
}

// Every runtime in turn, rotating which goes first; two warm-up rounds (page cache, first-run
// costs), then the measured rounds.
void measure(std::vector<Runtime>& runtimes, int rounds) {
    for (int round = -2; round < rounds; ++round) {
        for (std::size_t i = 0; i < runtimes.size(); ++i) {
            auto& r =
                runtimes[(i + static_cast<std::size_t>(std::max(round, 0))) % runtimes.size()];
            if (r.every <= 0 || (round >= 0 && round % r.every != 0)) {
                continue;
            }
            auto s = r.run(round < 0 ? 100000 + round : round);
            if (round >= 0) {
                r.samples.push_back(s);
            }
        }
    }
}

void report(const std::vector<Runtime>& runtimes, int rounds, int podman_every) {
    bench::DataFile data("sdrun_run", "runtime,ms,maxrss_kib");
    std::printf(
        "run --rm of busybox `true`, %d rounds (podman every %dth), 64 MiB limit, overlay "
        "root\n%-8s %8s %10s %10s %14s\n",
        rounds, podman_every, "runtime", "samples", "median", "p90", "peak RSS median");
    for (const auto& r : runtimes) {
        std::vector<double> ms;
        std::vector<double> rss;
        for (const auto& s : r.samples) {
            ms.push_back(s.ms);
            rss.push_back(static_cast<double>(s.maxrss_kib));
            data.row("%s,%.3f,%ld", r.label.c_str(), s.ms, s.maxrss_kib);
        }
        std::printf("%-8s %8zu %8.2fms %8.2fms %11.1f MiB\n", r.label.c_str(), r.samples.size(),
                    quantile(ms, 0.5), quantile(ms, 0.9), quantile(rss, 0.5) / 1024);
    }
}

int run(int argc, char** argv) {
    int rounds = argc > 1 ? std::atoi(argv[1]) : 100;
    int podman_every = argc > 2 ? std::atoi(argv[2]) : 10;
    fs::path sdrun = SDRUN_EXE;
    fs::path work = fs::temp_directory_path() / ("sdrun-bench-" + std::to_string(getpid()));
    enter_bench_namespace(work);
    auto lower = work / "busybox";
    make_rootfs(lower);
    write_bundle_config(work / "bundle", work / "log");
    write_podman_conf(work);

    // sdrun and podman import the same rootfs (untimed).
    spawn_and_wait({"tar", "-C", lower.string(), "-czf", (work / "busybox.tar.gz").string(), "."},
                   work / "log");
    auto store = work / "sdrun";
    spawn_and_wait({sdrun.string(), "--root", store.string(), "image", "import", "busybox",
                    (work / "busybox.tar.gz").string()},
                   work / "log");
    spawn_and_wait(podman(work, {"import", (work / "busybox.tar.gz").string(), "localhost/bb"}),
                   work / "log");
    std::string cgroup_parent = "/sdrun-bench-podman-" + std::to_string(getpid());

    std::vector<Runtime> runtimes = {
        {"sdrun",
         1,
         [&](int) {
             return spawn_and_wait({sdrun.string(), "--root", store.string(), "run", "--rm", "-m",
                                    kMemoryLimit, "busybox", "true"},
                                   work / "log");
         },
         {}},
        {"crun", 1, [&](int n) { return run_oci("crun", work, lower, n); }, {}},
        {"runc", 1, [&](int n) { return run_oci("runc", work, lower, n); }, {}},
        {"podman",
         podman_every,
         [&](int) {
             return spawn_and_wait(
                 podman(work, {"run", "--rm", "--network", "none", "-m", kMemoryLimit,
                               "--cgroup-parent", cgroup_parent, "localhost/bb", "true"}),
                 work / "log");
         },
         {}},
        {"unshare",
         1,
         [&](int) {
             return spawn_and_wait({"unshare", "-pmuin", "--fork", "true"}, work / "log");
         },
         {}},
    };
    measure(runtimes, rounds);
    remove_cgroup_tree(cgroup_parent);
    report(runtimes, rounds, podman_every);
    ::umount2("/var/lib/containers", MNT_DETACH);
    ::umount2(work.c_str(), MNT_DETACH);
    fs::remove(work);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return bench::main_of("sdrun_run_bench", run, argc, argv);
}
