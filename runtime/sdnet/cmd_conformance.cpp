// sdnet conformance --plugins DIR: the black-box CNI conformance suite (conformance.hpp).
#include <iostream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "runtime/libcni/error.hpp"
#include "runtime/sdnet/commands.hpp"
#include "runtime/sdnet/conformance.hpp"

namespace sdnet {
namespace {

std::vector<std::string> split_names(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string name; std::getline(in, name, ',');) {
        const auto& known = conformance::known_plugins();
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            throw UsageError("--only: unknown plugin type \"" + name + "\"");
        }
        out.push_back(name);
    }
    return out;
}

// Plugins write their diagnostics to the stderr they inherit; during the suite those are noise
// (the report carries each error's code and message), so stderr points at /dev/null meanwhile.
class QuietStderr {
public:
    QuietStderr() : saved_(::dup(STDERR_FILENO)) {
        int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null != -1) {
            ::dup2(null, STDERR_FILENO);
            ::close(null);
        }
    }

    ~QuietStderr() {
        if (saved_ != -1) {
            ::dup2(saved_, STDERR_FILENO);
            ::close(saved_);
        }
    }

    QuietStderr(const QuietStderr&) = delete;
    QuietStderr& operator=(const QuietStderr&) = delete;

private:
    int saved_;
};

}  // namespace

int cmd_conformance(Invocation& inv) {
    ParseSpec spec;
    spec.description =
        "Run the CNI conformance suite against the plugin binaries in DIR (ours or any other\n"
        "implementation), inside private network and mount namespaces it creates (never the\n"
        "machine's network): spec error codes, VERSION, every claimed cniVersion and its result\n"
        "shape, CHECK after ADD, repeated DEL, DEL after the netns is gone, parallel ADDs,\n"
        "IPAM exhaustion, rollback of a failed ADD, GC and STATUS, and leaks after each.\n"
        "Exit status 0 only when no check failed. Needs root.";
    spec.options.add_options()("plugins", po::value<std::string>()->required(),
                               "directory holding the plugin binaries")(
        "only", po::value<std::string>(), "comma-separated plugin types to check")(
        "json", po::bool_switch(), "print a JSON report instead of lines")(
        "plugin-stderr", po::bool_switch(), "let the plugins' own stderr through");
    auto vm = parse(inv, spec);
    if (!vm) {
        return 0;
    }
    conformance::Options opts;
    opts.plugin_dir = (*vm)["plugins"].as<std::string>();
    if (!std::filesystem::is_directory(opts.plugin_dir)) {
        throw libcni::Error("no plugin directory " + opts.plugin_dir);
    }
    if (vm->count("only")) {
        opts.only = split_names((*vm)["only"].as<std::string>());
    }
    bool as_json = (*vm)["json"].as<bool>();
    conformance::enter_private_namespaces();
    std::optional<QuietStderr> quiet;
    if (!(*vm)["plugin-stderr"].as<bool>()) {
        quiet.emplace();
    }
    auto results = conformance::run(opts, [&](const conformance::CheckResult& r) {
        if (!as_json) {
            inv.out << conformance::to_string(r.outcome) << " " << r.plugin << " " << r.check
                    << (r.detail.empty() ? "" : ": " + r.detail) << std::endl;
        }
    });
    quiet.reset();
    std::map<conformance::Outcome, int> counts;
    json checks = json::array();
    for (const auto& r : results) {
        ++counts[r.outcome];
        checks.push_back({{"plugin", r.plugin},
                          {"check", r.check},
                          {"result", conformance::to_string(r.outcome)},
                          {"detail", r.detail}});
    }
    int passed = counts[conformance::Outcome::Pass];
    int failed = counts[conformance::Outcome::Fail];
    int na = counts[conformance::Outcome::NotApplicable];
    if (as_json) {
        json report = {{"plugins", opts.plugin_dir},
                       {"checks", checks},
                       {"summary", {{"pass", passed}, {"fail", failed}, {"na", na}}}};
        inv.out << report.dump(2) << "\n";
    } else {
        inv.out << passed << " passed, " << failed << " failed, " << na << " not applicable ("
                << opts.plugin_dir << ")\n";
    }
    if (results.empty()) {
        throw libcni::Error("no known plugin type in " + opts.plugin_dir);
    }
    return failed == 0 ? 0 : 1;
}

}  // namespace sdnet
