// Plugin stdin construction (libcni buildOneConfig / injectRuntimeConfig / InjectConf) and
// CNI_ARGS text.
#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"
#include "runtime/libcni/error.hpp"
#include "runtime/libcni/runtime.hpp"

namespace libcni {
namespace {

// InjectConf: the plugin object with `name` and `cniVersion` of the list forced, so every
// plugin of a chain agrees on them whatever its own object says.
json with_identity(const NetworkList& list, const PluginConf& plugin) {
    json conf = plugin.conf;
    conf["name"] = list.name;
    conf["cniVersion"] = list.cni_version;
    return conf;
}

}  // namespace

json build_one_config(const NetworkList& list, const PluginConf& plugin, const json& prev_result,
                      const RuntimeConf& rt) {
    json conf = with_identity(list, plugin);
    if (!prev_result.is_null()) {
        conf["prevResult"] = prev_result;
    }
    json runtime_config = json::object();
    for (const auto& capability : plugin.capabilities()) {
        if (auto it = rt.capability_args.find(capability); it != rt.capability_args.end()) {
            runtime_config[capability] = *it;
        }
    }
    if (!runtime_config.empty()) {
        conf["runtimeConfig"] = runtime_config;
    }
    return conf;
}

json build_gc_config(const NetworkList& list, const PluginConf& plugin,
                     const std::optional<std::vector<GcAttachment>>& valid) {
    json conf = with_identity(list, plugin);
    if (valid) {
        json attachments = json::array();
        for (const auto& a : *valid) {
            attachments.push_back({{"containerID", a.container_id}, {"ifname", a.ifname}});
        }
        conf["cni.dev/valid-attachments"] = attachments;
        conf["cni.dev/attachments"] = attachments;
    }
    return conf;
}

json build_status_config(const NetworkList& list, const PluginConf& plugin) {
    return with_identity(list, plugin);
}

std::string format_cni_args(const CniArgs& args) {
    std::string out;
    for (const auto& [k, v] : args) {
        out += out.empty() ? "" : ";";
        out += k + "=" + v;
    }
    return out;
}

CniArgs parse_cni_args(std::string_view text) {
    try {
        return cni::CniArgs::parse(text).pairs();
    } catch (const cni::Error& e) {
        throw ArgumentError(std::string{e.what()} + " (" + e.details() + ")");
    }
}

}  // namespace libcni
