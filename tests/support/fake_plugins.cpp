#include "tests/support/fake_plugins.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT: POSIX

namespace sdnet::test {

namespace {

std::string json_list(const std::vector<std::string>& items) {
    return json(items).dump();
}

// A POSIX sh script; no bash or jq needed.
std::string script(const std::string& name, const fs::path& log, const json& result,
                   const std::vector<std::string>& versions) {
    std::string l = log.string();
    return "#!/bin/sh\n"
           "L='" +
           l +
           "'\n"
           "if [ \"$CNI_COMMAND\" = VERSION ]; then\n"
           "  echo '{\"cniVersion\":\"1.1.0\",\"supportedVersions\":" +
           json_list(versions) +
           "}'\n"
           "  exit 0\n"
           "fi\n"
           "n=$(cat \"$L/calls\" 2>/dev/null | wc -l)\n"
           "cat > \"$L/$n.stdin\"\n"
           "env | grep '^CNI_' | sort > \"$L/$n.env\"\n"
           "echo '" +
           name +
           "' \"$CNI_COMMAND\" >> \"$L/calls\"\n"
           "if [ -f \"$L/" +
           name +
           ".fail.$CNI_COMMAND\" ]; then\n"
           "  cat \"$L/" +
           name +
           ".fail.$CNI_COMMAND\"\n"
           "  exit 1\n"
           "fi\n"
           "if [ \"$CNI_COMMAND\" = ADD ]; then\n"
           "  cat <<'RESULT'\n" +
           result.dump() +
           "\nRESULT\n"
           "fi\n";
}

}  // namespace

FakePlugins::FakePlugins(const fs::path& root) : bin_(root / "bin"), log_(root / "log") {
    fs::create_directories(bin_);
    fs::create_directories(log_);
}

void FakePlugins::add(const std::string& name, const json& result,
                      const std::vector<std::string>& versions) {
    json r = result;
    if (r.is_null()) {
        auto n = results_.size() + 2;
        r = {{"cniVersion", "1.0.0"},
             {"interfaces", {{{"name", "eth0"}, {"sandbox", "/run/netns/x"}}}},
             {"ips", {{{"address", "10.9.0." + std::to_string(n) + "/24"}, {"interface", 0}}}},
             {"dns", json::object()}};
    }
    results_[name] = r;
    write_file(bin_ / name, script(name, log_, r, versions), fs::perms{0755});
}

void FakePlugins::fail(const std::string& name, const std::string& verb, int code,
                       const std::string& msg) const {
    write_file(log_ / (name + ".fail." + verb), json{{"code", code}, {"msg", msg}}.dump());
}

std::vector<std::string> FakePlugins::calls() const {
    std::vector<std::string> out;
    std::istringstream in(read_file(log_ / "calls"));
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

json FakePlugins::stdin_of(std::size_t call) const {
    return json::parse(read_file(log_ / (std::to_string(call) + ".stdin")));
}

std::map<std::string, std::string> FakePlugins::env_of(std::size_t call) const {
    std::map<std::string, std::string> out;
    std::istringstream in(read_file(log_ / (std::to_string(call) + ".env")));
    for (std::string line; std::getline(in, line);) {
        auto eq = line.find('=');
        out[line.substr(0, eq)] = eq == std::string::npos ? "" : line.substr(eq + 1);
    }
    return out;
}

json FakePlugins::result_of(const std::string& name) const {
    return results_.at(name);
}

void FakePlugins::clear_log() const {
    for (const auto& e : fs::directory_iterator(log_)) {
        fs::remove(e.path());
    }
}

std::size_t Outcome::err_lines() const {
    return static_cast<std::size_t>(std::count(err.begin(), err.end(), '\n'));
}

Outcome run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    TempDir tmp;
    std::string out_file = (tmp / "out").string();
    std::string err_file = (tmp / "err").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    // glibc's getenv takes the first match, so overridden variables must go.
    auto overridden = [&env](const char* entry) {
        return std::any_of(env.begin(), env.end(), [entry](const std::string& e) {
            auto key = e.substr(0, e.find('=') + 1);
            return std::strncmp(entry, key.c_str(), key.size()) == 0;
        });
    };
    std::vector<std::string> envs;
    for (char** e = environ; *e != nullptr; ++e) {
        if (!overridden(*e)) {
            envs.emplace_back(*e);
        }
    }
    envs.insert(envs.end(), env.begin(), env.end());
    std::vector<char*> argv_p;
    std::vector<char*> env_p;
    for (const auto& a : argv) {
        argv_p.push_back(const_cast<char*>(a.c_str()));  // NOLINT: POSIX API
    }
    for (const auto& e : envs) {
        env_p.push_back(const_cast<char*>(e.c_str()));  // NOLINT: POSIX API
    }
    argv_p.push_back(nullptr);
    env_p.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, argv_p.data(), env_p.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    Outcome r;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(out_file);
    r.err = read_file(err_file);
    return r;
}

}  // namespace sdnet::test
