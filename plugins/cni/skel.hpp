#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/cni/env.hpp"
#include "plugins/cni/types.hpp"
#include "plugins/cni/version.hpp"

namespace cni {

// The keys every plugin configuration may carry (SPEC.md, "Network configuration").
struct NetConf {
    Version version;
    std::string name;
    std::string type;
    json ipam = json::object();  // the "ipam" object, {} when absent
    std::string ipam_type;       // ipam.type, empty when absent
    std::optional<Dns> dns;
    std::optional<Result> prev_result;
    json runtime_config = json::object();
    json args = json::object();

    // Throws cni::Error: 6 for wrong shapes, 7 for a missing or invalid name, 1 for an
    // unsupported version.
    static NetConf parse(const json& config);
};

// Everything a handler gets: the validated environment, the raw stdin (for IPAM delegation),
// the parsed configuration and its common keys.
struct Request {
    Env env;
    std::string stdin_data;
    json config;
    NetConf conf;
};

// A plugin is a set of handlers; absent ones mean the verb is a no-op success (GC, STATUS) or
// unsupported. Handlers throw cni::Error (or any exception, reported as code 999).
struct Plugin {
    std::string name;  // "bridge"; shown in the about text
    std::function<Result(const Request&)> add;
    std::function<void(const Request&)> del;
    std::function<void(const Request&)> check;
    std::function<void(const Request&)> gc;
    std::function<void(const Request&)> status;
};

// Where run() reads the request and writes its output: main() binds these to the process's
// stdin, stdout and stderr (see stdio.hpp), tests to strings.
struct Io {
    Getenv getenv;
    std::function<std::optional<std::string>()> read_input;  // all of stdin; nullopt on error
    std::function<void(std::string_view)> out;               // result or error JSON
    std::function<void(std::string_view)> err;               // diagnostics
};

// How the executable was started and what it was built as (its main() fills this in).
struct Invocation {
    std::vector<std::string_view> args;  // the command line after the program name
    std::string_view version;            // SDNET_VERSION, compiled into each executable's main
};

// Runs one CNI call: reads the environment and stdin, dispatches, prints the result or the error
// JSON on `out` and diagnostics on `err`. Returns the process exit status. Without CNI_COMMAND
// (run by hand) it prints the about text: on `out` when the command line asks for --version,
// else on `err` as the reference plugins do.
int run(const Plugin& plugin, const Io& io, const Invocation& invocation = {});

// run() on the real environment, standard streams and command line. Plugins pass
// SDNET_VERSION, defined for their main.cpp only: a new commit recompiles that one file per
// executable, not this library and everything linking it.
int main(const Plugin& plugin, int argc, char** argv, std::string_view version);

// "CNI plugin bridge version 0.1.0 (sdnet)\nCNI protocol versions supported: 0.1.0, ...\n".
std::string about_text(const std::string& plugin_name, std::string_view version);

// Prints a cni::Error as the spec's error JSON.
json error_json(const class Error& e);

}  // namespace cni
