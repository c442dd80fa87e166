#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/cni/env.hpp"
#include "plugins/cni/exec.hpp"
#include "runtime/libcni/cache.hpp"
#include "runtime/libcni/conf.hpp"

// The runtime side of CNI: running a network configuration list's plugins for one attachment,
// as libcni (containernetworking/cni libcni/api.go) does, so results, cache files and plugin
// inputs match what podman and containerd produce. Nothing here prints.
namespace libcni {

using nlohmann::json;

// The per-attachment arguments of a call (libcni RuntimeConf).
struct RuntimeConf {
    std::string container_id;
    std::string netns;  // path of the network namespace
    std::string ifname;
    CniArgs args;                           // CNI_ARGS as key/value pairs
    json capability_args = json::object();  // capability name -> value (portMappings, ips, ...)
};

// An attachment GC must keep (SPEC.md "cni.dev/valid-attachments").
struct GcAttachment {
    std::string container_id;
    std::string ifname;

    bool operator==(const GcAttachment&) const = default;
};

// What a plugin answered to VERSION.
struct PluginInfo {
    std::string cni_version;
    std::vector<std::string> supported_versions;
};

// What GC did: the stale cached attachments it deleted and the errors it met on the way (GC
// continues after an error, as the spec requires; each error is one line).
struct GcReport {
    std::vector<CacheEntry> deleted;
    std::vector<std::string> errors;
};

// Runs one plugin binary with an environment and stdin and returns its parsed stdout (null when
// empty), throwing cni::Error with the plugin's code on failure. The default is cni::exec_plugin;
// tests may substitute their own.
using ExecFn = std::function<json(const std::string& binary, const std::vector<std::string>& env,
                                  std::string_view stdin_data)>;

// The stdin of an ADD, DEL or CHECK call (libcni buildOneConfig + injectRuntimeConfig): the
// plugin object with "name" and "cniVersion" of the list forced, "prevResult" when
// `prev_result` is not null, and "runtimeConfig" = the plugin's true capabilities intersected
// with the capability args (replacing any runtimeConfig in the file; left alone when the
// intersection is empty).
json build_one_config(const NetworkList& list, const PluginConf& plugin, const json& prev_result,
                      const RuntimeConf& rt);

// The stdin of a GC call: name and cniVersion forced, and when `valid` is given both
// "cni.dev/valid-attachments" and the legacy "cni.dev/attachments" (cni#1101), as libcni does.
json build_gc_config(const NetworkList& list, const PluginConf& plugin,
                     const std::optional<std::vector<GcAttachment>>& valid);

// The stdin of a STATUS call: name and cniVersion forced.
json build_status_config(const NetworkList& list, const PluginConf& plugin);

// CNI_ARGS text, "K1=V1;K2=V2".
std::string format_cni_args(const CniArgs& args);
// Parses CNI_ARGS text; throws ArgumentError for a pair without a key or '='.
CniArgs parse_cni_args(std::string_view text);

class Runtime {
public:
    // `plugin_path`: directories searched for plugin binaries, in order; also CNI_PATH.
    explicit Runtime(std::vector<std::string> plugin_path,
                     std::filesystem::path cache_dir = std::string{kDefaultCacheDir},
                     ExecFn exec = {});

    const std::vector<std::string>& plugin_path() const noexcept { return path_; }

    const ResultCache& cache() const noexcept { return cache_; }

    // The binary of plugin `type`; throws PluginError (naming the path searched) if absent.
    std::string find_plugin(std::string_view type) const;

    // VERSION probe (libcni GetVersionInfo): a plugin that does not know VERSION supports 0.1.0.
    PluginInfo version_info(std::string_view type) const;

    // libcni ValidateNetworkList: every plugin exists and supports the list's cniVersion.
    // Returns the capabilities the list declares (sorted, unique); throws Error listing every
    // problem.
    std::vector<std::string> validate(const NetworkList& list) const;

    // ADD, in order, each plugin getting the previous result; writes the cache and returns the
    // final result as the last plugin printed it. On failure the whole chain gets DEL (reverse
    // order, no prevResult), as SPEC.md requires, and the error is rethrown (PluginError or
    // CacheError; AddFailedError if that DEL failed too). Throws ArgumentError for an invalid
    // container id, network name or interface name.
    json add(const NetworkList& list, const RuntimeConf& rt) const;

    // DEL, in reverse order, with the cached result converted to the list's version as
    // prevResult (from 0.4.0). A missing cache entry means no prevResult; an unreadable one is
    // removed and DEL goes on without it. Stops at the first failing plugin (PluginError) and
    // then keeps the cache entry; removes it on success.
    void del(const NetworkList& list, const RuntimeConf& rt) const;

    // CHECK, in order, with the cached result as prevResult. Returns false without running
    // anything when the list sets disableCheck. Throws UnsupportedError before 0.4.0,
    // CacheError for an unreadable cache entry, PluginError for a failed check.
    bool check(const NetworkList& list, const RuntimeConf& rt) const;

    // libcni GCNetworkList: nothing if disableGC; else DEL for every cached attachment of this
    // network that `valid` does not list (all of them when `valid` is nullopt), with its cached
    // netns, args and capability args; then, from 1.1.0, GC to every plugin. Never throws for a
    // plugin failure: see GcReport::errors.
    GcReport gc(const NetworkList& list,
                const std::optional<std::vector<GcAttachment>>& valid) const;

    // STATUS to each plugin in order, stopping at the first failure (PluginError). Returns false
    // without running anything before 1.1.0, which has no STATUS.
    bool status(const NetworkList& list) const;

    // The cached result of an attachment converted to the list's version; null if not cached.
    // Throws CacheError when the entry cannot be read or converted.
    json cached_result(const NetworkList& list, const RuntimeConf& rt) const;

private:
    json invoke(const NetworkList& list, const PluginConf& plugin, cni::Command command,
                const cni::PluginEnv& env, const json& stdin_json) const;
    json add_one(const NetworkList& list, const PluginConf& plugin, const json& prev,
                 const RuntimeConf& rt) const;
    void del_chain(const NetworkList& list, const RuntimeConf& rt, const json& prev) const;
    void write_cache(const NetworkList& list, const RuntimeConf& rt, const json& result) const;
    cni::PluginEnv env_for(cni::Command command, const RuntimeConf& rt) const;

    std::vector<std::string> path_;
    std::string path_text_;
    ResultCache cache_;
    ExecFn exec_;
};

}  // namespace libcni
