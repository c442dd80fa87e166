#include "runtime/container/image_config.hpp"

#include "runtime/container/error.hpp"

namespace sdrun {
using nlohmann::json;

namespace {

std::vector<std::string> strings(const json& config, const char* key) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) {
        return {};
    }
    if (!it->is_array() ||
        !std::all_of(it->begin(), it->end(), [](const json& s) { return s.is_string(); })) {
        throw Error(std::string("image config: ") + key + " is not a list of strings");
    }
    return it->get<std::vector<std::string>>();
}

std::string text(const json& config, const char* key) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) {
        return "";
    }
    if (!it->is_string()) {
        throw Error(std::string("image config: ") + key + " is not a string");
    }
    return it->get<std::string>();
}

// ExposedPorts is a set written as an object: {"80/tcp": {}}.
std::vector<std::string> keys(const json& config, const char* key) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) {
        return {};
    }
    if (!it->is_object()) {
        throw Error(std::string("image config: ") + key + " is not an object");
    }
    std::vector<std::string> out;
    for (const auto& item : it->items()) {
        out.push_back(item.key());
    }
    return out;
}

}  // namespace

ImageConfig ImageConfig::parse(const json& config) {
    if (config.is_null()) {
        return {};
    }
    if (!config.is_object()) {
        throw Error("image config: \"config\" is not an object");
    }
    return {strings(config, "Env"), strings(config, "Entrypoint"),
            strings(config, "Cmd"), text(config, "WorkingDir"),
            text(config, "User"),   keys(config, "ExposedPorts")};
}

json ImageConfig::to_json() const {
    json out = json::object();
    auto put = [&](const char* key, const auto& value) {
        if (!value.empty()) {
            out[key] = value;
        }
    };
    put("Env", env);
    put("Entrypoint", entrypoint);
    put("Cmd", cmd);
    put("WorkingDir", working_dir);
    put("User", user);
    if (!exposed_ports.empty()) {
        out["ExposedPorts"] = json::object();
        for (const auto& port : exposed_ports) {
            out["ExposedPorts"][port] = json::object();
        }
    }
    return out;
}

std::vector<std::string> ImageConfig::command(const std::vector<std::string>& args) const {
    auto out = entrypoint;
    const auto& tail = args.empty() ? cmd : args;
    out.insert(out.end(), tail.begin(), tail.end());
    if (out.empty()) {
        throw Error(
            "no command specified: give one after the image name (the image has no Cmd "
            "or Entrypoint)");
    }
    return out;
}

void merge_env(std::vector<std::string>& env, const std::vector<std::string>& vars) {
    for (const auto& v : vars) {
        auto key = v.substr(0, v.find('=')) + "=";
        std::erase_if(env, [&](const std::string& e) { return e.rfind(key, 0) == 0; });
        env.push_back(v);
    }
}

}  // namespace sdrun
