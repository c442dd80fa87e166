#include "plugins/cni/skel.hpp"

#include <algorithm>
#include <cerrno>
#include <malloc.h>

#include <unistd.h>

#include "netlib/error.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/cni/stdio.hpp"

namespace cni {
namespace {

std::string supported_list() {
    std::string s = "[";
    for (const auto& v : supported_versions()) {
        s += (s.size() > 1 ? "," : "");
        s += v.to_string();
    }
    return s + "]";
}

json version_json() {
    json versions = json::array();
    for (const auto& v : supported_versions()) {
        versions.push_back(v.to_string());
    }
    return {{"cniVersion", kCurrentVersion.to_string()}, {"supportedVersions", versions}};
}

Version config_version(const json& config) {
    auto it = config.find("cniVersion");
    if (it == config.end() || it->is_null()) {
        return Version{};  // absent means 0.1.0 (SPEC.md)
    }
    if (!it->is_string()) {
        throw Error(Code::Decode, "\"cniVersion\" must be a string");
    }
    return Version::parse(it->get<std::string>());
}

void check_verb_allowed(Command command, const Version& v) {
    if (command == Command::Check && v < kV040) {
        throw Error(Code::IncompatibleVersion, "config version does not allow CHECK",
                    "CHECK needs cniVersion 0.4.0 or later, config is " + v.to_string());
    }
    if ((command == Command::Gc || command == Command::Status) && v < kV110) {
        throw Error(Code::IncompatibleVersion,
                    std::string{"config version does not allow "} + to_string(command),
                    "needs cniVersion 1.1.0 or later, config is " + v.to_string());
    }
}

Request read_request(Command command, const Io& io) {
    Request req;
    req.env = Env::load(command, io.getenv);
    auto input = io.read_input();
    if (!input) {
        throw Error(Code::Io, "error reading from stdin");
    }
    req.stdin_data = std::move(*input);
    try {
        req.config = json::parse(req.stdin_data);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
        throw Error(Code::Decode, "failed to parse network configuration", e.what());
    }
    if (!req.config.is_object()) {
        throw Error(Code::Decode, "network configuration must be a JSON object");
    }
    req.conf = NetConf::parse(req.config);
    check_verb_allowed(command, req.conf.version);
    return req;
}

void dispatch(const Plugin& plugin, const Request& req, const Io& io) {
    auto call = [&](const std::function<void(const Request&)>& handler) {
        if (handler) {
            handler(req);
        }
    };
    switch (req.env.command) {
        case Command::Add:
            io.out(to_json(plugin.add(req), req.conf.version).dump() + '\n');
            break;
        case Command::Del:
            call(plugin.del);
            break;
        case Command::Check:
            call(plugin.check);
            break;
        case Command::Gc:
            call(plugin.gc);
            break;
        case Command::Status:
            call(plugin.status);
            break;
        case Command::Version:
            break;
    }
}

int fail(const Error& e, const Io& io) {
    io.out(error_json(e).dump() + '\n');
    std::string line = "CNI error " + std::to_string(static_cast<int>(e.code())) + ": " + e.what();
    if (!e.details().empty()) {
        line += " (" + e.details() + ")";
    }
    io.err(line + '\n');
    return 1;
}

}  // namespace

NetConf NetConf::parse(const json& config) {
    using namespace json_util;
    NetConf c;
    c.version = config_version(config);
    if (!is_supported(c.version)) {
        throw Error(
            Code::IncompatibleVersion, "incompatible CNI versions",
            "config is \"" + c.version.to_string() + "\", plugin supports " + supported_list());
    }
    auto name = get_string(config, "name");
    if (!name || name->empty()) {
        throw Error(Code::InvalidConfig, "missing network name");
    }
    if (!valid_id(*name)) {
        throw Error(Code::InvalidConfig, "invalid network name \"" + *name + "\"",
                    "must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
    }
    c.name = *name;
    c.type = get_string(config, "type").value_or("");
    if (const json* ipam = get_object(config, "ipam")) {
        c.ipam = *ipam;
        c.ipam_type = get_string(*ipam, "type").value_or("");
    }
    if (const json* dns = get_object(config, "dns")) {
        c.dns = parse_dns(*dns);
    }
    if (const json* prev = get_object(config, "prevResult")) {
        c.prev_result = parse_result(*prev);
    }
    if (const json* rc = get_object(config, "runtimeConfig")) {
        c.runtime_config = *rc;
    }
    if (const json* args = get_object(config, "args")) {
        c.args = *args;
    }
    return c;
}

json error_json(const Error& e) {
    json j = {{"code", static_cast<int>(e.code())}, {"msg", e.what()}};
    if (!e.details().empty()) {
        j["details"] = e.details();
    }
    return j;
}

int run(const Plugin& plugin, const Io& io, const Invocation& invocation) {
    auto command_text = io.getenv("CNI_COMMAND");
    if (!command_text || command_text->empty()) {
        const auto& args = invocation.args;
        bool asked = std::find(args.begin(), args.end(), "--version") != args.end();
        (asked ? io.out : io.err)(about_text(plugin.name, invocation.version));
        return 0;
    }
    try {
        auto command = parse_command(*command_text);
        if (!command) {
            throw Error(Code::InvalidEnv, "unknown CNI_COMMAND: " + *command_text);
        }
        if (*command == Command::Version) {
            io.out(version_json().dump() + '\n');
            return 0;
        }
        dispatch(plugin, read_request(*command, io), io);
        return 0;
    } catch (const Error& e) {
        return fail(e, io);
    } catch (const netlib::Error& e) {
        bool busy = e.code() == EAGAIN || e.code() == EBUSY;
        return fail(Error(busy ? Code::TryAgain : Code::Internal, e.what()), io);
    } catch (const std::exception& e) {
        return fail(Error(Code::Internal, e.what()), io);
    }
}

std::string about_text(const std::string& plugin_name, std::string_view version) {
    std::string versions;
    for (const auto& v : supported_versions()) {
        versions += (versions.empty() ? "" : ", ") + v.to_string();
    }
    return "CNI plugin " + plugin_name + " version " + std::string{version} + " (sdnet)\n" +
           "CNI protocol versions supported: " + versions + '\n';
}

int main(const Plugin& plugin, int argc, char** argv, std::string_view version) {
    // A plugin runs at most one helper thread (IPAM next to the link setup). Sharing the main
    // heap spares the arena glibc would map (64 MB reserved) and fault in for it.
    (void)::mallopt(M_ARENA_MAX, 1);
    std::vector<std::string_view> args(argv + std::min(argc, 1), argv + argc);
    int status = run(plugin,
                     Io{process_getenv(), [] { return read_all(STDIN_FILENO); },
                        [](std::string_view s) { (void)write_all(STDOUT_FILENO, s); },
                        [](std::string_view s) { (void)write_all(STDERR_FILENO, s); }},
                     {args, version});
#if !defined(__SANITIZE_ADDRESS__)
    // Everything the call changed is done and its answer written (unbuffered). What exit()
    // would add is the static destructors of libnl's ~40 cache and address-family modules,
    // ~0.04 ms per call. Sanitizer builds take the normal exit, where the leak check runs.
    ::_exit(status);
#else
    return status;
#endif
}

}  // namespace cni
