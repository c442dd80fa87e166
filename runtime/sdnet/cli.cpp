#include "runtime/sdnet/cli.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "plugins/cni/env.hpp"
#include "plugins/cni/types.hpp"
#include "runtime/libcni/attachment_id.hpp"
#include "runtime/libcni/error.hpp"

#ifndef SDNET_INSTALLED_CNI_DIR
#define SDNET_INSTALLED_CNI_DIR "/opt/cni/bin"
#endif
#ifndef SDNET_SOURCE_DIR
#define SDNET_SOURCE_DIR ""
#endif

namespace sdnet {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSystemConfDir = "/etc/cni/net.d";
constexpr const char* kThirdPartyPluginDir = "/opt/cni/bin";

// The CMake build directory this executable was built in, if it runs from one: plugins built
// next to it are then found without installing anything.
std::optional<fs::path> build_tree() {
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) {
        return std::nullopt;
    }
    auto dir = exe.parent_path();
    for (int depth = 0; depth < 4 && !dir.empty() && dir != dir.root_path(); ++depth) {
        if (fs::exists(dir / "CMakeCache.txt", ec)) {
            return dir;
        }
        dir = dir.parent_path();
    }
    return std::nullopt;
}

bool has_conf_files(const fs::path& dir) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        auto ext = it->path().extension();
        if (ext == ".conflist" || ext == ".conf" || ext == ".json") {
            return true;
        }
    }
    return false;
}

std::vector<std::string> split_path(const std::string& text) {
    std::vector<std::string> out;
    std::string::size_type start = 0;
    while (start <= text.size()) {
        auto end = std::min(text.find(':', start), text.size());
        if (end > start) {
            out.push_back(text.substr(start, end - start));
        }
        start = end + 1;
    }
    return out;
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

void print_help(const Invocation& inv, const ParseSpec& spec, const po::options_description& g) {
    const Subcommand* cmd = nullptr;
    for (const auto& s : subcommands()) {
        if (s.name == inv.name) {
            cmd = &s;
        }
    }
    inv.out << "Usage: sdnet " << inv.name << " " << (cmd != nullptr ? cmd->usage : "") << "\n\n"
            << spec.description << "\n\n"
            << spec.options << "\n"
            << g;
}

}  // namespace

fs::path Globals::resolved_conf_dir() const {
    if (conf_dir) {
        return *conf_dir;
    }
    std::string source = SDNET_SOURCE_DIR;
    if (!has_conf_files(kSystemConfDir) && !source.empty() && build_tree()) {
        return fs::path{source} / "conf";
    }
    return kSystemConfDir;
}

std::vector<std::string> Globals::resolved_plugin_path() const {
    if (plugin_dir) {
        return split_path(*plugin_dir);
    }
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read once, single-threaded
    if (const char* env = std::getenv("CNI_PATH"); env != nullptr && *env != '\0') {
        return split_path(env);
    }
    std::vector<std::string> out;
    std::error_code ec;
    if (auto build = build_tree(); build && fs::is_directory(*build / "cni", ec)) {
        out.push_back((*build / "cni").string());
    }
    out.emplace_back(SDNET_INSTALLED_CNI_DIR);
    out.emplace_back(kThirdPartyPluginDir);
    return out;
}

fs::path Globals::resolved_cache_dir() const {
    return cache_dir ? fs::path{*cache_dir} : fs::path{std::string{libcni::kDefaultCacheDir}};
}

libcni::Runtime Globals::runtime() const {
    return libcni::Runtime(resolved_plugin_path(), resolved_cache_dir());
}

libcni::NetworkList Globals::load(const std::string& network) const {
    return libcni::load_network(resolved_conf_dir(), network);
}

po::options_description global_options(Globals& g) {
    po::options_description desc("Global options", 100, 50);
    // Notifiers, so values given before the subcommand and after it land in the same place.
    auto into = [](std::optional<std::string>& slot) {
        return po::value<std::string>()->notifier([&slot](const std::string& v) { slot = v; });
    };
    auto add = desc.add_options();
    add("conf-dir", into(g.conf_dir),
        "network configurations (default /etc/cni/net.d; from a build tree without that, the "
        "repository's conf/)");
    add("plugin-dir", into(g.plugin_dir),
        "':'-separated plugin directories (default $CNI_PATH, else the build tree's cni/, the "
        "installed plugin dir, /opt/cni/bin)");
    add("cache-dir", into(g.cache_dir),
        "result cache shared with other CNI runtimes (default /var/lib/cni)");
    return desc;
}

std::optional<po::variables_map> parse(Invocation& inv, ParseSpec& spec) {
    spec.options.add_options()("help,h", "show this help");
    auto globals = global_options(inv.globals);
    po::options_description hidden;
    po::positional_options_description pos;
    for (const auto& name : spec.positional) {
        hidden.add_options()(name.c_str(), po::value<std::string>());
        pos.add(name.c_str(), 1);
    }
    po::options_description all;
    all.add(spec.options).add(globals).add(hidden);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(inv.args).options(all).positional(pos).run(), vm);
        if (vm.count("help") != 0) {
            print_help(inv, spec, globals);
            return std::nullopt;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }
    auto required = spec.positional.size() - static_cast<std::size_t>(spec.optional_positional);
    for (std::size_t i = 0; i < required; ++i) {
        if (vm.count(spec.positional[i]) == 0) {
            throw UsageError("missing " + upper(spec.positional[i]));
        }
    }
    return vm;
}

void add_target_options(ParseSpec& spec) {
    spec.positional = {"net", "netns"};
    spec.options.add_options()("ifname,i", po::value<std::string>()->default_value("eth0"),
                               "interface name inside the network namespace")(
        "id", po::value<std::string>(),
        "container id (default: derived from the netns path as cnitool does, "
        "\"cnitool-\" + 20 hex digits of its SHA-512)");
}

Target target_from(const po::variables_map& vm) {
    Target t;
    t.network = vm["net"].as<std::string>();
    if (!cni::valid_id(t.network)) {
        throw UsageError("invalid network name \"" + t.network + "\"");
    }
    try {
        t.netns = libcni::netns_path(vm["netns"].as<std::string>());
    } catch (const libcni::ArgumentError& e) {
        throw UsageError(e.what());
    }
    t.ifname = vm["ifname"].as<std::string>();
    if (auto problem = cni::ifname_problem(t.ifname)) {
        throw UsageError("invalid --ifname \"" + t.ifname + "\": " + *problem);
    }
    t.container_id =
        vm.count("id") != 0 ? vm["id"].as<std::string>() : libcni::derive_container_id(t.netns);
    if (!cni::valid_id(t.container_id)) {
        throw UsageError("invalid --id \"" + t.container_id +
                         "\" (letters, digits, '_', '.', '-'; starting with a letter or digit)");
    }
    return t;
}

std::optional<libcni::CacheEntry> cached_entry(const libcni::Runtime& rt, const Target& t) {
    try {
        return rt.cache().read(t.network, t.container_id, t.ifname);
    } catch (const libcni::CacheError&) {
        return std::nullopt;
    }
}

std::string pad(const std::string& value, std::size_t width) {
    return value.size() >= width ? value + " " : value + std::string(width - value.size(), ' ');
}

std::vector<std::string> result_addresses(const json& result) {
    std::vector<std::string> out;
    try {
        for (const auto& ip : cni::parse_result(result).ips) {
            out.push_back(ip.address.to_string());
        }
    } catch (const std::exception&) {
        out.clear();
    }
    return out;
}

}  // namespace sdnet
