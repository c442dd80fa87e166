#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/cni/version.hpp"

// Loading network configurations the way libcni (containernetworking/cni libcni/conf.go, v1.3)
// does, so a directory shared with podman or containerd means the same thing to sdnet.
// Every failure is a libcni::ConfigError naming the file and the key.
namespace libcni {

using nlohmann::json;

// One entry of a list's "plugins", kept as written: unknown keys pass through to the plugin.
struct PluginConf {
    std::string type;
    json conf = json::object();  // the plugin object, verbatim
    std::string source;          // the file it was read from, for messages

    // Names of the capabilities the plugin declares with `true`, sorted.
    std::vector<std::string> capabilities() const;
};

// A network configuration list (libcni NetworkConfigList).
struct NetworkList {
    std::string name;
    // The selected version (cniVersion, or the highest usable of cniVersions), verbatim; it is
    // what every plugin gets as "cniVersion". Empty when the file has none.
    std::string cni_version;
    bool disable_check = false;
    bool disable_gc = false;
    bool load_only_inlined_plugins = false;
    std::vector<PluginConf> plugins;
    std::string bytes;   // the file's raw bytes: what the result cache stores as "config"
    std::string source;  // the file, for messages

    // cni_version parsed; an empty one means 0.1.0, as in the spec.
    cni::Version version() const;
};

// Parses conflist bytes (libcni NetworkConfFromBytes): name, cniVersion/cniVersions selection
// (versions newer than cni::kCurrentVersion are skipped), disableCheck/disableGC/
// loadOnlyInlinedPlugins (booleans or "true"/"false"), plugins. `source` names the origin in
// errors. Does not look at the filesystem.
NetworkList parse_network_list(std::string_view bytes, const std::string& source);

// Parses one plugin object; `where` is its key path in errors ("plugins[1]").
PluginConf parse_plugin_conf(const json& obj, const std::string& source, const std::string& where);

// Reads a .conflist file and appends the plugins of `<dir>/<name>/*.conf` (sorted) unless
// loadOnlyInlinedPlugins is set (libcni >= 1.3). A list that ends up without plugins is an error.
NetworkList load_network_list_file(const std::filesystem::path& file);

// Reads a single-plugin .conf/.json file and up-converts it to a one-plugin list, as
// libcni ConfListFromConf does (its bytes become {"cniVersion","name","plugins":[conf]}).
NetworkList load_single_conf_file(const std::filesystem::path& file);

// libcni LoadNetworkConf: the first *.conflist (by file name) whose name matches, else the first
// matching *.conf/*.json up-converted. A malformed file met on the way is an error, as in libcni.
// Throws NotFoundError when nothing matches (also when the directory does not exist).
NetworkList load_network(const std::filesystem::path& dir, std::string_view name);

// Every configuration file in `dir` in lookup order (*.conflist, then *.conf/*.json, each
// sorted by name), for listing. A file shadowed by an earlier one with the same network name
// is reported with `shadowed` set; a broken file carries its error instead of a list.
struct ConfFile {
    std::filesystem::path file;
    std::optional<NetworkList> list;
    std::string error;      // ConfigError::what() when list is empty
    bool shadowed = false;  // an earlier file defines the same network
};

std::vector<ConfFile> scan_networks(const std::filesystem::path& dir);

}  // namespace libcni
