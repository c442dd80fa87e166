// sdrun run: a docker-style `run` on an imported image.
#include <cerrno>
#include <fstream>
#include <iostream>
#include <random>

#include <sys/stat.h>
#include <unistd.h>

#include "runtime/container/capabilities.hpp"
#include "runtime/container/container.hpp"
#include "runtime/container/error.hpp"
#include "runtime/container/image_store.hpp"
#include "runtime/container/rlimits.hpp"
#include "runtime/container/units.hpp"
#include "runtime/container/user.hpp"
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
    add("workdir,w", po::value<std::string>()->default_value("/"), "working directory");
    add("user,u", po::value<std::string>(), "USER[:GROUP], names from the image's passwd/group");
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
    add("pids-limit", po::value<std::string>(), "maximum number of processes");
    add("cpus", po::value<double>(), "CPU quota in CPUs, e.g. 0.5");
    add("cpu-shares,c", po::value<std::string>(), "relative CPU weight (default 1024)");
    add("read-only", po::bool_switch(), "mount the root filesystem read-only");
    return o;
}

std::vector<std::string> strings_of(const po::variables_map& vm, const char* name) {
    return vm.count(name) != 0 ? vm[name].as<std::vector<std::string>>()
                               : std::vector<std::string>{};
}

void apply_user(Process& p, const fs::path& image_rootfs, const std::string& user) {
    auto u = resolve_user(image_rootfs, user);
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

Resources resources_from(const po::variables_map& vm) {
    Resources r;
    if (vm.count("memory") != 0) {
        r.memory_limit = parse_size(vm["memory"].as<std::string>(), "memory limit");
        if (*r.memory_limit < kMinMemory) {
            throw Error("memory limit below the minimum of 6 MiB");
        }
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

Spec build_spec(const po::variables_map& vm, const fs::path& image_rootfs, const fs::path& dir,
                const std::string& name, std::vector<std::string> cmd) {
    Spec spec = default_spec();
    if (cmd.empty()) {
        // An imported rootfs carries no image config, hence no default command (docker: 125).
        throw Error("no command specified: give one after the image name");
    }
    spec.process.args = std::move(cmd);
    spec.process.cwd = vm["workdir"].as<std::string>();
    if (spec.process.cwd.empty() || spec.process.cwd[0] != '/') {
        throw Error("working directory \"" + spec.process.cwd + "\" is not absolute");
    }
    spec.process.capabilities = adjust_capabilities(
        spec.process.capabilities, strings_of(vm, "cap-add"), strings_of(vm, "cap-drop"));
    if (vm.count("user") != 0) {
        apply_user(spec.process, image_rootfs, vm["user"].as<std::string>());
    }
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
                 Overlay{image_rootfs, dir / "upper", dir / "work"}};
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
    const auto& image = p->positional[0];
    images.get(image);
    // Everything is checked before anything is created.
    auto spec = build_spec(vm, images.rootfs(image), inv.root / "containers" / name, name, p->rest);
    ContainerDir dir(inv.root, name);
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
