#include "runtime/libcni/runtime.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <set>
#include <thread>

#include "netlib/error.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/exec.hpp"
#include "plugins/cni/types.hpp"
#include "runtime/libcni/error.hpp"

namespace libcni {
namespace {

constexpr cni::Version kCheckSince = cni::kV040;  // CHECK and cached prevResult on DEL
constexpr cni::Version kGcStatusSince = cni::kV110;

std::string join_path(const std::vector<std::string>& dirs) {
    std::string out;
    for (const auto& d : dirs) {
        out += out.empty() ? "" : ":";
        out += d;
    }
    return out;
}

// libcni checks these before running anything (pkg/utils ValidateContainerID and friends).
void validate_runtime(const NetworkList& list, const RuntimeConf& rt) {
    if (rt.container_id.empty()) {
        throw ArgumentError("missing container id");
    }
    if (!cni::valid_id(rt.container_id)) {
        throw ArgumentError("invalid container id \"" + rt.container_id +
                            "\" (letters, digits, '_', '.', '-'; starting with a letter or digit)");
    }
    if (!cni::valid_id(list.name)) {
        throw ArgumentError("invalid network name \"" + list.name + "\"");
    }
    if (auto problem = cni::ifname_problem(rt.ifname)) {
        throw ArgumentError("invalid interface name \"" + rt.ifname + "\": " + *problem);
    }
}

// Runs exec, retrying a few times on ETXTBSY as libcni's RawExec does: a binary just written
// by another thread of this process may still be open for writing in a forked child.
json exec_with_retry(const ExecFn& exec, const std::string& binary,
                     const std::vector<std::string>& env, std::string_view stdin_data) {
    for (int attempt = 1;; ++attempt) {
        try {
            return exec(binary, env, stdin_data);
        } catch (const netlib::Error& e) {
            if (e.code() != ETXTBSY || attempt == 5) {
                throw cni::Error(cni::Code::Internal, e.what());
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50 * attempt));
    }
}

// The version a result is in: its cniVersion, else the config's (libcni fixupResultVersion,
// cni#895), else 0.1.0 as the spec says.
std::string result_version(const json& result, const std::string& config_version) {
    if (auto it = result.find("cniVersion");
        it != result.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
        return it->get<std::string>();
    }
    return config_version.empty() ? "0.1.0" : config_version;
}

// Checks that `out` is a result a runtime can use and stamps its version when missing.
json validated_result(json out, const std::string& config_version) {
    if (!out.is_object()) {
        throw cni::Error(cni::Code::Decode, "plugin printed no result");
    }
    auto version = result_version(out, config_version);
    if (!cni::is_supported(cni::Version::parse(version))) {
        throw cni::Error(cni::Code::IncompatibleVersion,
                         "plugin printed a result of unsupported version " + version);
    }
    cni::parse_result(out);  // throws cni::Error(Decode) naming the bad field
    out["cniVersion"] = version;
    return out;
}

}  // namespace

Runtime::Runtime(std::vector<std::string> plugin_path, std::filesystem::path cache_dir, ExecFn exec)
    : path_(std::move(plugin_path)),
      path_text_(join_path(path_)),
      cache_(std::move(cache_dir)),
      exec_(exec ? std::move(exec) : ExecFn{cni::exec_plugin}) {}

std::string Runtime::find_plugin(std::string_view type) const {
    try {
        return cni::find_plugin(type, path_text_);
    } catch (const cni::Error& e) {
        throw Error(e.what());
    }
}

PluginInfo Runtime::version_info(std::string_view type) const {
    std::string binary = find_plugin(type);
    // Dummy values, as libcni sends: plugins built on old skel versions demand them.
    cni::PluginEnv env{cni::Command::Version, "", "dummy", "dummy", "", "dummy"};
    json stdin_json = {{"cniVersion", cni::kCurrentVersion.to_string()}};
    json out;
    try {
        out = exec_with_retry(exec_, binary, cni::plugin_environment(env), stdin_json.dump());
    } catch (const cni::Error& e) {
        if (std::string_view{e.what()} == "unknown CNI_COMMAND: VERSION") {
            return {"0.1.0", {"0.1.0"}};
        }
        throw Error("plugin \"" + std::string{type} + "\" failed (VERSION): " + e.what());
    }
    PluginInfo info;
    const json* versions = out.is_object() ? &out["supportedVersions"] : nullptr;
    if (versions == nullptr || !versions->is_array()) {
        throw Error("plugin \"" + std::string{type} +
                    "\" answered VERSION without a \"supportedVersions\" list");
    }
    info.cni_version = out.value("cniVersion", "");
    for (const auto& v : *versions) {
        if (v.is_string()) {
            info.supported_versions.push_back(v.get<std::string>());
        }
    }
    return info;
}

std::vector<std::string> Runtime::validate(const NetworkList& list) const {
    std::string wanted = list.cni_version.empty() ? "0.1.0" : list.cni_version;
    std::set<std::string> caps;
    std::string problems;
    for (const auto& plugin : list.plugins) {
        try {
            auto info = version_info(plugin.type);
            const auto& vs = info.supported_versions;
            if (std::find(vs.begin(), vs.end(), wanted) == vs.end()) {
                throw Error("plugin \"" + plugin.type + "\" does not support config version \"" +
                            wanted + "\"");
            }
        } catch (const Error& e) {
            problems += problems.empty() ? "" : "; ";
            problems += e.what();
        }
        auto plugin_caps = plugin.capabilities();
        caps.insert(plugin_caps.begin(), plugin_caps.end());
    }
    if (!problems.empty()) {
        throw Error("network \"" + list.name + "\": " + problems);
    }
    return {caps.begin(), caps.end()};
}

cni::PluginEnv Runtime::env_for(cni::Command command, const RuntimeConf& rt) const {
    return {command, rt.container_id, rt.netns, rt.ifname, format_cni_args(rt.args), path_text_};
}

json Runtime::invoke(const NetworkList& list, const PluginConf& plugin, cni::Command command,
                     const cni::PluginEnv& env, const json& stdin_json) const {
    try {
        std::string binary = cni::find_plugin(plugin.type, path_text_);
        return exec_with_retry(exec_, binary, cni::plugin_environment(env), stdin_json.dump());
    } catch (const cni::Error& e) {
        throw PluginError(list.name, plugin.type, command, e);
    } catch (const std::exception& e) {
        throw PluginError(list.name, plugin.type, command,
                          cni::Error(cni::Code::Internal, e.what()));
    }
}

json Runtime::add_one(const NetworkList& list, const PluginConf& plugin, const json& prev,
                      const RuntimeConf& rt) const {
    auto out = invoke(list, plugin, cni::Command::Add, env_for(cni::Command::Add, rt),
                      build_one_config(list, plugin, prev, rt));
    try {
        return validated_result(std::move(out), list.cni_version);
    } catch (const cni::Error& e) {
        throw PluginError(list.name, plugin.type, cni::Command::Add, e);
    }
}

void Runtime::write_cache(const NetworkList& list, const RuntimeConf& rt,
                          const json& result) const {
    cache_.write({rt.container_id, list.bytes, rt.ifname, list.name, rt.netns, rt.args,
                  rt.capability_args.is_object() ? rt.capability_args : json::object(), result});
}

json Runtime::add(const NetworkList& list, const RuntimeConf& rt) const {
    validate_runtime(list, rt);
    json result;
    try {
        for (const auto& plugin : list.plugins) {
            result = add_one(list, plugin, result, rt);
        }
        write_cache(list, rt, result);
        return result;
    } catch (const Error& e) {
        // SPEC.md: an ADD must be followed by a DEL even when it failed. Nothing was cached
        // for this ADD, so the plugins get no prevResult (as podman does).
        try {
            del_chain(list, rt, nullptr);
            cache_.remove(list.name, rt.container_id, rt.ifname);
        } catch (const Error& rollback) {
            throw AddFailedError(e.what(), rollback.what());
        }
        throw;
    }
}

void Runtime::del_chain(const NetworkList& list, const RuntimeConf& rt, const json& prev) const {
    for (auto it = list.plugins.rbegin(); it != list.plugins.rend(); ++it) {
        invoke(list, *it, cni::Command::Del, env_for(cni::Command::Del, rt),
               build_one_config(list, *it, prev, rt));
    }
}

json Runtime::cached_result(const NetworkList& list, const RuntimeConf& rt) const {
    auto raw = cache_.read_result(list.name, rt.container_id, rt.ifname);
    if (!raw) {
        return nullptr;
    }
    auto file = cache_.path_for(list.name, rt.container_id, rt.ifname).string();
    try {
        auto from = cni::Version::parse(result_version(*raw, ""));
        auto to = list.version();
        if (!cni::is_supported(from) || !cni::is_supported(to)) {
            throw cni::Error(
                cni::Code::IncompatibleVersion,
                "unsupported version " + (cni::is_supported(from) ? to : from).to_string());
        }
        return cni::to_json(cni::parse_result(*raw), to);
    } catch (const cni::Error& e) {
        throw CacheError(file, std::string{"cached result cannot be used: "} + e.what());
    }
}

void Runtime::del(const NetworkList& list, const RuntimeConf& rt) const {
    validate_runtime(list, rt);
    json prev;
    if (list.version() >= kCheckSince) {
        try {
            prev = cached_result(list, rt);
        } catch (const CacheError&) {
            // libcni (cni#1171): a corrupt entry must not block DEL; drop it and go on.
            try {
                cache_.remove(list.name, rt.container_id, rt.ifname);
            } catch (const CacheError&) {
                // Left for the final removal to report.
            }
        }
    }
    del_chain(list, rt, prev);
    cache_.remove(list.name, rt.container_id, rt.ifname);
}

bool Runtime::check(const NetworkList& list, const RuntimeConf& rt) const {
    if (list.version() < kCheckSince) {
        throw UnsupportedError("network \"" + list.name + "\": configuration version \"" +
                               list.cni_version + "\" does not support the CHECK command");
    }
    if (list.disable_check) {
        return false;
    }
    validate_runtime(list, rt);
    json prev = cached_result(list, rt);
    for (const auto& plugin : list.plugins) {
        invoke(list, plugin, cni::Command::Check, env_for(cni::Command::Check, rt),
               build_one_config(list, plugin, prev, rt));
    }
    return true;
}

GcReport Runtime::gc(const NetworkList& list,
                     const std::optional<std::vector<GcAttachment>>& valid) const {
    GcReport report;
    if (list.disable_gc) {
        return report;
    }
    for (auto& entry : cache_.list()) {
        if (entry.network != list.name ||
            (valid && std::find(valid->begin(), valid->end(),
                                GcAttachment{entry.container_id, entry.ifname}) != valid->end())) {
            continue;
        }
        RuntimeConf rt{entry.container_id, entry.netns, entry.ifname, entry.cni_args,
                       entry.capability_args};
        try {
            del(list, rt);
            report.deleted.push_back(std::move(entry));
        } catch (const Error& e) {
            report.errors.push_back("failed to delete stale attachment " + rt.container_id + " " +
                                    rt.ifname + ": " + e.what());
        }
    }
    if (list.version() >= kGcStatusSince) {
        for (const auto& plugin : list.plugins) {
            try {
                invoke(list, plugin, cni::Command::Gc, env_for(cni::Command::Gc, {}),
                       build_gc_config(list, plugin, valid));
            } catch (const Error& e) {
                report.errors.emplace_back(e.what());
            }
        }
    }
    return report;
}

bool Runtime::status(const NetworkList& list) const {
    if (list.version() < kGcStatusSince) {
        return false;
    }
    for (const auto& plugin : list.plugins) {
        invoke(list, plugin, cni::Command::Status, env_for(cni::Command::Status, {}),
               build_status_config(list, plugin));
    }
    return true;
}

}  // namespace libcni
