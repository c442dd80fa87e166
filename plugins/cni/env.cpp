#include "plugins/cni/env.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "plugins/cni/error.hpp"

namespace cni {

std::optional<Command> parse_command(std::string_view text) {
    static constexpr std::pair<std::string_view, Command> kNames[] = {
        {"ADD", Command::Add}, {"DEL", Command::Del},       {"CHECK", Command::Check},
        {"GC", Command::Gc},   {"STATUS", Command::Status}, {"VERSION", Command::Version}};
    for (const auto& [name, cmd] : kNames) {
        if (name == text) {
            return cmd;
        }
    }
    return std::nullopt;
}

const char* to_string(Command c) {
    switch (c) {
        case Command::Add:
            return "ADD";
        case Command::Del:
            return "DEL";
        case Command::Check:
            return "CHECK";
        case Command::Gc:
            return "GC";
        case Command::Status:
            return "STATUS";
        case Command::Version:
            return "VERSION";
    }
    return "?";
}

Getenv process_getenv() {
    return [](const char* name) -> std::optional<std::string> {
        const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): single-threaded
        return v != nullptr ? std::optional<std::string>{v} : std::nullopt;
    };
}

bool valid_id(std::string_view id) {
    if (id.empty() || std::isalnum(static_cast<unsigned char>(id[0])) == 0) {
        return false;
    }
    return std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
    });
}

std::optional<std::string> ifname_problem(std::string_view name) {
    if (name.empty()) {
        return "interface name is empty";
    }
    if (name.size() > 15) {
        return "interface name is too long (" + std::to_string(name.size()) + " bytes, at most 15)";
    }
    if (name == "." || name == "..") {
        return "interface name is . or ..";
    }
    for (char c : name) {
        if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) != 0) {
            return "interface name contains an invalid character";
        }
    }
    return std::nullopt;
}

Env Env::load(Command command, const Getenv& getenv) {
    Env env;
    env.command = command;
    bool per_container =
        command == Command::Add || command == Command::Del || command == Command::Check;

    struct Var {
        const char* name;
        std::string* out;
        bool required;
    };

    const Var vars[] = {
        {"CNI_CONTAINERID", &env.container_id, per_container},
        {"CNI_NETNS", &env.netns, command == Command::Add || command == Command::Check},
        {"CNI_IFNAME", &env.ifname, per_container},
        {"CNI_ARGS", &env.args, false},
        {"CNI_PATH", &env.path, command != Command::Version},
    };
    std::string missing;
    for (const auto& v : vars) {
        *v.out = getenv(v.name).value_or("");
        if (v.required && v.out->empty()) {
            missing += missing.empty() ? "" : ",";
            missing += v.name;
        }
    }
    if (!missing.empty()) {
        throw Error(Code::InvalidEnv, "required env variables [" + missing + "] missing");
    }
    if (per_container && !valid_id(env.container_id)) {
        throw Error(Code::InvalidEnv, "invalid CNI_CONTAINERID \"" + env.container_id + "\"",
                    "must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
    }
    if (per_container) {
        if (auto problem = ifname_problem(env.ifname)) {
            throw Error(Code::InvalidEnv, "invalid CNI_IFNAME \"" + env.ifname + "\"", *problem);
        }
    }
    return env;
}

CniArgs CniArgs::parse(std::string_view text) {
    CniArgs out;
    while (!text.empty()) {
        auto end = text.find(';');
        auto pair = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (pair.empty()) {
            continue;
        }
        auto eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            throw Error(Code::InvalidEnv, "invalid CNI_ARGS pair \"" + std::string{pair} + "\"",
                        "expected KEY=VALUE");
        }
        out.pairs_.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
    }
    return out;
}

std::optional<std::string> CniArgs::get(std::string_view key) const {
    for (const auto& [k, v] : pairs_) {
        if (k == key) {
            return v;
        }
    }
    return std::nullopt;
}

void CniArgs::check_known(std::initializer_list<std::string_view> known) const {
    auto ignore = get("IgnoreUnknown");
    if (ignore && (*ignore == "1" || *ignore == "true" || *ignore == "True")) {
        return;
    }
    std::string unknown;
    for (const auto& [k, v] : pairs_) {
        if (k != "IgnoreUnknown" && std::find(known.begin(), known.end(), k) == known.end()) {
            unknown += unknown.empty() ? "" : " ";
            unknown += k;
        }
    }
    if (!unknown.empty()) {
        throw Error(Code::InvalidEnv, "CNI_ARGS: unknown args [" + unknown + "]",
                    "set IgnoreUnknown=1 to ignore them");
    }
}

}  // namespace cni
