#include "plugins/tuning/sysctls.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <memory>
#include <regex.h>
#include <set>
#include <stdexcept>
#include <strings.h>

#include <unistd.h>

#include "netlib/error.hpp"
#include "netlib/sysctl.hpp"
#include "plugins/cni/error.hpp"

namespace tuning {
namespace {

using nlohmann::json;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The keys of the objects enclosing the current parse position ("" for the root and for
// elements of arrays); a sysctl object is at {"", "sysctl"} or {"", "args", "cni", "sysctl"}.
bool is_sysctl_object(const std::vector<std::string>& path) {
    auto at = [&path](std::initializer_list<std::string_view> want) {
        if (path.size() != want.size()) {
            return false;
        }
        std::size_t i = 0;
        for (auto w : want) {
            if (!iequals(path[i++], w)) {
                return false;
            }
        }
        return true;
    };
    return at({"", "sysctl"}) || at({"", "args", "cni", "sysctl"});
}

struct RegexFree {
    void operator()(regex_t* re) const {
        regfree(re);
        delete re;
    }
};

using Regex = std::unique_ptr<regex_t, RegexFree>;

std::vector<std::pair<std::string, Regex>> read_allowlist(const char* path) {
    std::ifstream in(path);
    std::vector<std::pair<std::string, Regex>> out;
    std::string line;
    while (std::getline(in, line)) {
        auto b = line.find_first_not_of(" \t\r");
        if (b == std::string::npos) {
            continue;
        }
        line = line.substr(b, line.find_last_not_of(" \t\r") - b + 1);
        Regex re{new regex_t};
        if (int rc = regcomp(re.get(), line.c_str(), REG_EXTENDED | REG_NOSUB); rc != 0) {
            char msg[256];
            regerror(rc, re.get(), msg, sizeof msg);
            delete re.release();  // regcomp failed: nothing for regfree to free
            throw cni::config_error(std::string{"invalid regular expression in "} + path + ": \"" +
                                    line + "\": " + msg);
        }
        out.emplace_back(line, std::move(re));
    }
    if (in.bad()) {
        throw cni::Error(cni::Code::Io, std::string{"cannot read "} + path);
    }
    return out;
}

[[noreturn]] void write_failed(const Sysctl& s, const netlib::Error& e) {
    if (e.code() == ENOENT) {
        throw cni::config_error("sysctl \"" + s.key +
                                "\" does not exist in the container's "
                                "network namespace (/proc/sys/" +
                                s.path + ")");
    }
    if (e.code() == EINVAL || e.code() == ERANGE) {
        throw cni::config_error("invalid value \"" + s.value + "\" for sysctl \"" + s.key + "\"",
                                e.what());
    }
    throw cni::Error(cni::Code::Internal, "cannot set sysctl \"" + s.key + "\"", e.what());
}

// Multi-value sysctls read back with tabs ("0\t7" for "0 7"): compare the words.
std::string words(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    while ((i = text.find_first_not_of(" \t\n", i)) != std::string_view::npos) {
        auto end = std::min(text.find_first_of(" \t\n", i), text.size());
        out += (out.empty() ? "" : " ") + std::string{text.substr(i, end - i)};
        i = end;
    }
    return out;
}

}  // namespace

std::string sysctl_file(std::string_view key, const std::string& ifname) {
    std::string path;
    try {
        path = netlib::sysctl_path(key);
    } catch (const std::invalid_argument& e) {
        throw cni::config_error("invalid \"sysctl\" key \"" + std::string{key} +
                                    "\": only keys under /proc/sys/net are allowed",
                                e.what());
    }
    if (auto at = path.find("IFNAME"); at != std::string::npos) {
        path.replace(at, 6, ifname);
    }
    return path;
}

void reject_duplicate_keys(const std::string& config_text) {
    std::vector<std::string> path;
    std::string pending;  // the key whose value is parsed next
    std::set<std::string> seen;
    std::string duplicate;
    auto cb = [&](int, json::parse_event_t event, json& parsed) {
        switch (event) {
            case json::parse_event_t::key:
                pending = parsed.get<std::string>();
                if (is_sysctl_object(path) && !seen.insert(pending).second && duplicate.empty()) {
                    duplicate = pending;
                }
                break;
            case json::parse_event_t::object_start:
                path.push_back(pending);
                pending.clear();
                if (is_sysctl_object(path)) {
                    seen.clear();
                }
                break;
            case json::parse_event_t::array_start:
                path.push_back({});
                pending.clear();
                break;
            case json::parse_event_t::object_end:
            case json::parse_event_t::array_end:
                path.pop_back();
                break;
            case json::parse_event_t::value:
                break;
        }
        return true;
    };
    [[maybe_unused]] json whole = json::parse(config_text, cb, false);  // for the callback
    if (!duplicate.empty()) {
        throw cni::config_error("duplicated \"sysctl\" key \"" + duplicate +
                                "\": sysctl keys must be unique");
    }
}

void check_allowlist(const std::vector<Sysctl>& sysctls, const char* allowlist_path) {
    if (sysctls.empty() || ::access(allowlist_path, F_OK) != 0) {
        return;
    }
    auto allowed = read_allowlist(allowlist_path);
    for (const auto& s : sysctls) {
        bool ok = false;
        for (const auto& [text, re] : allowed) {
            ok = ok || regexec(re.get(), s.key.c_str(), 0, nullptr, 0) == 0;
        }
        if (!ok) {
            throw cni::config_error("sysctl \"" + s.key + "\" is not allowed by " + allowlist_path);
        }
    }
}

void apply_sysctls(const netlib::Netns& netns, const std::vector<Sysctl>& sysctls,
                   cni::Rollback& undo) {
    if (sysctls.empty()) {
        return;
    }
    // /proc/sys/net shows the namespace of the thread that opens it.
    netlib::NetnsGuard in{netns};
    for (const auto& s : sysctls) {
        try {
            auto old = netlib::read_sysctl(s.path);
            netlib::write_sysctl(s.path, s.value);
            undo.add([&netns, path = s.path, old] {
                netlib::NetnsGuard back{netns};
                netlib::write_sysctl(path, old);
            });
        } catch (const netlib::Error& e) {
            write_failed(s, e);
        }
    }
}

std::vector<std::string> sysctl_mismatches(const netlib::Netns& netns,
                                           const std::vector<Sysctl>& sysctls) {
    std::vector<std::string> out;
    if (sysctls.empty()) {
        return out;
    }
    netlib::NetnsGuard in{netns};
    for (const auto& s : sysctls) {
        auto have = netlib::try_read_sysctl(s.path);
        if (!have) {
            out.push_back(s.path + " does not exist");
        } else if (words(*have) != words(s.value)) {
            out.push_back(s.path + " is \"" + *have + "\", configured \"" + s.value + "\"");
        }
    }
    return out;
}

}  // namespace tuning
