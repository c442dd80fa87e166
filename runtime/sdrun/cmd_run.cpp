// sdrun run: a docker-style `run` on an imported image.
#include <cerrno>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/container/capabilities.hpp"
#include "runtime/container/cgroup.hpp"
#include "runtime/container/container.hpp"
#include "runtime/container/error.hpp"
#include "runtime/container/image_store.hpp"
#include "runtime/container/image_user.hpp"
#include "runtime/container/rlimits.hpp"
#include "runtime/container/run_record.hpp"
#include "runtime/container/units.hpp"
#include "runtime/sdrun/cli.hpp"
#include "runtime/sdrun/env_file.hpp"

namespace sdrun::cli {
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMinMemory = 6 << 20;  // docker's minimum
constexpr std::int64_t kCpuPeriod = 100000;   // microseconds, docker's --cpus period

// The container's directory <root>/containers/<name> (upper and work dirs of the overlay, the
// mount point), removed on destruction unless kept (run without --rm).
class ContainerDir {
public:
    ContainerDir(const fs::path& root, const std::string& name) : dir_(root / "containers" / name) {
        fs::create_directories(dir_.parent_path());
        if (mkdir(dir_.c_str(), 0700) != 0) {
            throw errno == EEXIST ? Error("container name \"" + name + "\" is already in use")
                                  : system_error("cannot create " + dir_.string(), errno);
        }
        for (const auto* sub : {"upper", "work", "rootfs"}) {
            fs::create_directory(dir_ / sub);
        }
    }

    ContainerDir(const ContainerDir&) = delete;
    ContainerDir& operator=(const ContainerDir&) = delete;

    ~ContainerDir() {
        if (!keep_) {
            std::error_code ec;
            fs::remove_all(dir_, ec);
        }
    }

    void keep() { keep_ = true; }

    const fs::path& path() const { return dir_; }

private:
    fs::path dir_;
    bool keep_ = false;
};

std::string random_id() {
    std::random_device rd;
    std::string id;
    static const char* kHex = "0123456789abcdef";
    for (int i = 0; i < 12; ++i) {
        id += kHex[rd() % 16];
    }
    return id;
}

po::options_description run_options() {
    // Wide enough that every option's help stays on one line.
    po::options_description o("Options", 120, 60);
    auto add = o.add_options();
    using strings = std::vector<std::string>;
    add("rm", po::bool_switch(), "remove the container's files when it exits");
    add("name", po::value<std::string>(), "container name (default: a random 12-hex id)");
    add("env,e", po::value<strings>()->composing(), "set K=V (K alone: the caller's value)");
    add("env-file", po::value<strings>()->composing(),
        "read K=V lines from a file (docker's format)");
    add("workdir,w", po::value<std::string>(), "working directory (default: the image's, or /)");
    add("user,u", po::value<std::string>(),
        "USER[:GROUP], names from the image's passwd/group (default: the image's User)");
    add("hostname", po::value<std::string>(), "hostname (default: the container name)");
    add("tty,t", po::bool_switch(), "give the command a pty; sdrun's stdio is relayed to it");
    add("init",
        po::value<bool>()
            ->default_value(true, "true")
            ->implicit_value(true, "true")
            ->value_name("BOOL"),
        "PID 1 is an init that reaps zombies and forwards signals (--init=false: the command)");
    add("cap-add", po::value<strings>()->composing(),
        "add a capability (NET_ADMIN, CAP_NET_ADMIN, ALL)");
    add("cap-drop", po::value<strings>()->composing(), "drop a capability (CHOWN, ALL)");
    add("security-opt", po::value<strings>()->composing(),
        "seccomp=unconfined, seccomp=FILE (docker's JSON profile format)");
    add("ulimit", po::value<strings>()->composing(),
        "resource limit NAME=SOFT[:HARD], e.g. nofile=1024:2048");
    add("memory,m", po::value<std::string>(), "memory limit, e.g. 64m (no swap on top)");
    add("memory-swap", po::value<std::string>(),
        "memory + swap limit, at least --memory; -1: unlimited swap");
    add("pids-limit", po::value<std::string>(), "maximum number of processes");
    add("cpus", po::value<double>(), "CPU quota in CPUs, e.g. 0.5");
    add("cpu-shares,c", po::value<std::string>(),
        "relative CPU weight (default 1024; cpu.weight on cgroup v2)");
    add("cpuset-cpus", po::value<std::string>(), "CPUs the container may use, e.g. 0-1,3");
    add("cpuset-mems", po::value<std::string>(), "memory nodes the container may use, e.g. 0");
    add("blkio-weight", po::value<std::string>(),
        "relative block I/O weight, 10 to 1000 (needs BFQ or iocost)");
    add("device-read-bps", po::value<std::vector<std::string>>()->composing(),
        "limit reads from a block device, DEV:RATE, e.g. /dev/vda:1mb");
    add("device-write-bps", po::value<std::vector<std::string>>()->composing(),
        "limit writes to a block device, DEV:RATE");
    add("read-only", po::bool_switch(), "mount the root filesystem read-only");
    return o;
}

std::vector<std::string> strings_of(const po::variables_map& vm, const char* name) {
    return vm.count(name) != 0 ? vm[name].as<std::vector<std::string>>()
                               : std::vector<std::string>{};
}

void apply_user(Process& p, const std::string& user, const std::vector<fs::path>& layers) {
    auto u = resolve_user(user, layers);
    p.uid = u.uid;
    p.gid = u.gid;
    p.additional_gids = u.additional_gids;
    std::erase_if(p.env, [](const std::string& e) { return e.rfind("HOME=", 0) == 0; });
    p.env.push_back("HOME=" + u.home);
}

void apply_env(Process& p, const std::vector<std::string>& vars) {
    for (const auto& v : vars) {
        auto eq = v.find('=');
        auto key = v.substr(0, eq);
        std::string entry = v;
        if (eq == std::string::npos) {
            const char* host = std::getenv(key.c_str());  // NOLINT(concurrency-mt-unsafe)
            if (host == nullptr) {
                continue;
            }
            entry = key + "=" + host;
        }
        std::erase_if(p.env, [&](const std::string& e) { return e.rfind(key + "=", 0) == 0; });
        p.env.push_back(entry);
    }
}

void apply_memory(Resources& r, const po::variables_map& vm) {
    if (vm.count("memory") != 0) {
        r.memory_limit = parse_size(vm["memory"].as<std::string>(), "memory limit");
        if (*r.memory_limit < kMinMemory) {
            throw Error("memory limit below the minimum of 6 MiB");
        }
    }
    if (vm.count("memory-swap") == 0) {
        return;
    }
    auto text = vm["memory-swap"].as<std::string>();
    if (!r.memory_limit) {
        throw Error("--memory-swap needs --memory");
    }
    r.memory_swap = text == "-1" ? -1 : parse_size(text, "memory-swap limit");
    if (*r.memory_swap != -1 && *r.memory_swap < *r.memory_limit) {
        throw Error("--memory-swap " + text + " is below --memory (it counts memory + swap)");
    }
}

// A cpuset list as the kernel takes it: numbers, ranges and commas ("0-2,4").
std::string cpuset_list(const std::string& text, const std::string& what) {
    if (text.empty() || text.find_first_not_of("0123456789,-") != std::string::npos) {
        throw Error("invalid " + what + " \"" + text + "\": a list like 0-1,3");
    }
    return text;
}

// DEV:RATE, DEV a block device node: its numbers and the rate in bytes per second.
DeviceRate device_rate(const std::string& text, const std::string& option) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) {
        throw Error("invalid --" + option + " \"" + text + "\": DEV:RATE, e.g. /dev/vda:1mb");
    }
    auto dev = text.substr(0, colon);
    struct stat st = {};
    if (stat(dev.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) {
        throw Error("invalid --" + option + " \"" + text + "\": " + dev + " is not a block device");
    }
    return {major(st.st_rdev), minor(st.st_rdev),
            parse_size(text.substr(colon + 1), "--" + option + " rate")};
}

void apply_io(Resources& r, const po::variables_map& vm) {
    if (vm.count("blkio-weight") != 0) {
        auto text = vm["blkio-weight"].as<std::string>();
        r.blkio_weight = parse_count(text, "blkio weight");
        if (*r.blkio_weight < 10 || *r.blkio_weight > 1000) {
            throw Error("invalid blkio weight \"" + text + "\": 10 to 1000");
        }
    }
    for (const auto* option : {"device-read-bps", "device-write-bps"}) {
        if (vm.count(option) == 0) {
            continue;
        }
        auto& rates =
            std::string(option) == "device-read-bps" ? r.device_read_bps : r.device_write_bps;
        for (const auto& text : vm[option].as<std::vector<std::string>>()) {
            rates.push_back(device_rate(text, option));
        }
    }
}

Resources resources_from(const po::variables_map& vm) {
    Resources r;
    apply_memory(r, vm);
    apply_io(r, vm);
    if (vm.count("cpuset-cpus") != 0) {
        r.cpuset_cpus = cpuset_list(vm["cpuset-cpus"].as<std::string>(), "cpuset-cpus");
    }
    if (vm.count("cpuset-mems") != 0) {
        r.cpuset_mems = cpuset_list(vm["cpuset-mems"].as<std::string>(), "cpuset-mems");
    }
    if (vm.count("pids-limit") != 0) {
        r.pids_limit = parse_count(vm["pids-limit"].as<std::string>(), "pids limit");
    }
    if (vm.count("cpu-shares") != 0) {
        r.cpu_shares = parse_count(vm["cpu-shares"].as<std::string>(), "cpu shares");
    }
    if (vm.count("cpus") != 0) {
        double cpus = vm["cpus"].as<double>();
        if (!(cpus > 0) || cpus > static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN))) {
            throw Error("invalid --cpus " + std::to_string(cpus) +
                        ": between 0 and the host's CPUs");
        }
        r.cpu_quota = static_cast<std::int64_t>(cpus * kCpuPeriod);
        r.cpu_period = kCpuPeriod;
    }
    return r;
}

std::string host_resolv_conf() {
    std::ifstream in("/etc/resolv.conf");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<GeneratedFile> etc_files(const std::string& hostname) {
    return {{"/etc/hostname", hostname + "\n"},
            {"/etc/hosts",
             "127.0.0.1\tlocalhost " + hostname + "\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
            {"/etc/resolv.conf", host_resolv_conf()}};
}

// The image's config as docker applies it: Entrypoint + (CMD or the image's Cmd), its Env under
// -e, its WorkingDir and User unless -w and -u say otherwise.
void apply_image(Process& p, const po::variables_map& vm, const ImageConfig& image,
                 const std::vector<fs::path>& layers, const std::vector<std::string>& cmd) {
    p.args = image.command(cmd);
    merge_env(p.env, image.env);
    p.cwd = vm.count("workdir") != 0    ? vm["workdir"].as<std::string>()
            : image.working_dir.empty() ? "/"
                                        : image.working_dir;
    if (p.cwd.empty() || p.cwd[0] != '/') {
        throw Error("working directory \"" + p.cwd + "\" is not absolute");
    }
    auto user = vm.count("user") != 0 ? vm["user"].as<std::string>() : image.user;
    if (!user.empty()) {
        apply_user(p, user, layers);
    }
}

// --security-opt: seccomp=unconfined|FILE, no-new-privileges[:true|false].
void apply_security_options(Spec& spec, const std::vector<std::string>& options) {
    for (const auto& o : options) {
        if (o == "seccomp=unconfined" || o == "seccomp:unconfined") {
            spec.seccomp.reset();
        } else if (o.rfind("seccomp=", 0) == 0 || o.rfind("seccomp:", 0) == 0) {
            auto file = o.substr(8);
            std::ifstream in(file);
            if (!in) {
                throw system_error("cannot read seccomp profile " + file, errno);
            }
            std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
            try {
                spec.seccomp = parse_docker_profile(text, spec.process.capabilities);
            } catch (const Error& e) {
                throw Error("seccomp profile " + file + ": " + e.what());
            }
        } else if (o == "no-new-privileges" || o == "no-new-privileges:true" ||
                   o == "no-new-privileges=true") {
            spec.process.no_new_privileges = true;
        } else {
            throw Error("unsupported --security-opt \"" + o + "\"");
        }
    }
}

// sdrun-init is installed (and built) next to sdrun.
fs::path init_binary() {
    auto init = fs::read_symlink("/proc/self/exe").parent_path() / "sdrun-init";
    if (!fs::exists(init)) {
        throw Error(init.string() + " not found (or run with --init=false)");
    }
    return init;
}

Spec build_spec(const po::variables_map& vm, const ImageStore& images, const ImageInfo& image,
                const fs::path& dir, const std::string& name, const std::vector<std::string>& cmd) {
    Spec spec = default_spec();
    auto layers = images.lower_dirs(image);
    spec.process.capabilities = adjust_capabilities(
        spec.process.capabilities, strings_of(vm, "cap-add"), strings_of(vm, "cap-drop"));
    apply_image(spec.process, vm, image.config, layers, cmd);
    for (const auto& file : strings_of(vm, "env-file")) {
        apply_env(spec.process, read_env_file(file));
    }
    apply_env(spec.process, strings_of(vm, "env"));
    for (const auto& u : strings_of(vm, "ulimit")) {
        spec.process.rlimits.push_back(parse_ulimit(u));
    }
    spec.seccomp = default_seccomp(spec.process.capabilities);
    apply_security_options(spec, strings_of(vm, "security-opt"));
    spec.process.terminal = vm["tty"].as<bool>();
    if (vm["init"].as<bool>()) {
        spec.process.init = init_binary();
    }
    spec.hostname = vm.count("hostname") != 0 ? vm["hostname"].as<std::string>() : name;
    spec.root = {dir / "rootfs", vm["read-only"].as<bool>(),
                 Overlay{layers, dir / "upper", dir / "work"}};
    spec.resources = resources_from(vm);
    spec.files = etc_files(spec.hostname);
    return spec;
}

int exec_error_status(const ExecError& e, std::string& message) {
    int err = e.error_number();
    if (err == ENOENT || err == ENOTDIR) {
        message = e.what() + std::string(": executable file not found in $PATH");
        return kExitNotFound;
    }
    message = e.what() + std::string(": permission denied (not executable)");
    return kExitNotExecutable;
}

}  // namespace

int cmd_run(Invocation& inv) {
    auto p = parse(inv, "run", run_options(), {"IMAGE"}, true);
    if (!p) {
        return 0;
    }
    const auto& vm = p->vm;
    auto name = vm.count("name") != 0 ? vm["name"].as<std::string>() : random_id();
    if (!valid_name(name)) {
        throw Error("invalid container name \"" + name + "\"");
    }
    ImageStore images(inv.root);
    auto image = image_for_run(images, p->positional[0]);
    auto host = Platform::host();
    if (image.platform.known() && !image.platform.fits(host)) {
        throw Error("image \"" + image.name + "\" is for " + image.platform.to_string() +
                    ", this host runs " + host.to_string());
    }
    // Everything is checked before anything is created.
    auto spec = build_spec(vm, images, image, inv.root / "containers" / name, name, p->rest);
    // The record goes last, after the directory and the cgroup (declared before them), and is
    // written only once the name is ours (the directory): it must never replace another run's.
    std::optional<RunRecordFile> record;
    ContainerDir dir(inv.root, name);
    images.record_use(dir.path(), image.name);
    auto state = record_of_this_process(name);
    state.cgroups = cgroup_dirs(name, spec.resources);
    state.dir = dir.path();
    state.remove_dir = vm["rm"].as<bool>();
    record.emplace(inv.root, std::move(state));
    try {
        auto result = run_container(spec, name);
        if (!vm["rm"].as<bool>()) {
            dir.keep();
        }
        if (result.oom_killed) {
            std::cerr << "sdrun run: container " << name << " OOM killed (memory limit "
                      << *spec.resources.memory_limit << " bytes)\n";
        }
        return result.exit_code;
    } catch (const ExecError& e) {
        std::string message;
        int status = exec_error_status(e, message);
        std::cerr << "sdrun run: " << message << "\n";
        return status;
    }
}

}  // namespace sdrun::cli
