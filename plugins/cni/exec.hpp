#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/cni/env.hpp"
#include "plugins/cni/types.hpp"

namespace cni {

struct Request;

// Finds the executable `type` in the ':'-separated `path`; throws cni::Error naming the path.
std::string find_plugin(std::string_view type, std::string_view path);

// The CNI_* variables of a plugin call.
struct PluginEnv {
    Command command = Command::Add;
    std::string container_id;
    std::string netns;
    std::string ifname;
    std::string args;
    std::string path;
};

// The process environment with every CNI_* variable replaced by those of `env`.
std::vector<std::string> plugin_environment(const PluginEnv& env);

// Runs the plugin at `binary` with `stdin_data` and the environment `envp`. Returns its parsed
// stdout (null for an empty output); a non-zero exit becomes a cni::Error with the plugin's own
// code, msg and details (or code 999 with its output when that is not error JSON).
nlohmann::json exec_plugin(const std::string& binary, const std::vector<std::string>& envp,
                           std::string_view stdin_data);

// IPAM delegation (SPEC.md "Delegated plugins"): runs `ipam.type` from CNI_PATH with the same
// stdin and environment, CNI_COMMAND replaced by `command`.
Result delegate_add(const Request& req);
void delegate(Command command, const Request& req);

}  // namespace cni
