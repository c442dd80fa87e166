#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

// The part of an OCI image config that `run` uses (the "config" object; docker's key names).
namespace sdrun {

struct ImageConfig {
    std::vector<std::string> env;  // "K=V"
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::string working_dir;
    std::string user;                        // "uid[:gid]" or names, as the image says
    std::vector<std::string> exposed_ports;  // "80/tcp"

    // From an image config's "config" object (null: all empty). Throws sdrun::Error naming the
    // key whose value has the wrong type.
    static ImageConfig parse(const nlohmann::json& config);
    // Env, Entrypoint, Cmd, WorkingDir, User, ExposedPorts; empty ones left out.
    nlohmann::json to_json() const;

    // docker's rule: the entrypoint followed by `args`, or by the image's Cmd when there are no
    // `args`. Throws sdrun::Error when that leaves nothing to run.
    std::vector<std::string> command(const std::vector<std::string>& args) const;
};

// Sets each "K=V" of `vars` in `env`, replacing an entry for the same K.
void merge_env(std::vector<std::string>& env, const std::vector<std::string>& vars);

}  // namespace sdrun
