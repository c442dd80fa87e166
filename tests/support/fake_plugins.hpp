#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

// Fake CNI plugins written as shell scripts that record every call, and running a process (the
// sdnet executable) to see what it did: for the libcni, sdnet and sdrun tests.
namespace sdnet::test {

namespace fs = std::filesystem;
using nlohmann::json;

// A directory of fake plugins. Each plugin, on every call but VERSION, appends "NAME VERB" to
// <log>/calls and saves its stdin and CNI_* environment as <log>/<n>.stdin and <log>/<n>.env
// (n counts calls from 0). ADD prints the plugin's canned result. A file <log>/NAME.fail.VERB
// makes that verb fail: its content is printed and the plugin exits 1.
class FakePlugins {
public:
    explicit FakePlugins(const fs::path& root);

    // Writes plugin `name`, whose ADD prints `result` (a default one with a per-plugin address
    // when null) and whose VERSION reports `versions`.
    void add(const std::string& name, const json& result = nullptr,
             const std::vector<std::string>& versions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0",
                                                         "1.1.0"});
    // Makes `verb` of plugin `name` fail with CNI error `code`/`msg`.
    void fail(const std::string& name, const std::string& verb, int code,
              const std::string& msg) const;

    const fs::path& dir() const { return bin_; }

    // "NAME VERB" per call, in order.
    std::vector<std::string> calls() const;
    json stdin_of(std::size_t call) const;
    std::map<std::string, std::string> env_of(std::size_t call) const;
    // The default ADD result of plugin `name`.
    json result_of(const std::string& name) const;
    void clear_log() const;

private:
    fs::path bin_;
    fs::path log_;
    std::map<std::string, json> results_;
};

// What a child process did.
struct Outcome {
    int status = -1;
    std::string out;
    std::string err;

    // Lines of stderr.
    std::size_t err_lines() const;
};

// Runs `argv` (argv[0] is the executable path) with extra environment entries "K=V".
Outcome run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

}  // namespace sdnet::test
