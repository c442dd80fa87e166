#include "runtime/container/rlimits.hpp"

#include <cerrno>
#include <charconv>
#include <utility>

#include <sys/resource.h>

#include "runtime/container/error.hpp"

namespace sdrun {
namespace {

constexpr std::pair<const char*, int> kNames[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK}};

int resource_of(const std::string& name, const std::string& text) {
    for (const auto& [n, resource] : kNames) {
        if (name == n) {
            return resource;
        }
    }
    throw Error("invalid ulimit \"" + text + "\": unknown limit \"" + name + "\"");
}

const char* name_of(int resource) {
    for (const auto& [n, r] : kNames) {
        if (r == resource) {
            return n;
        }
    }
    return "?";
}

std::uint64_t limit_value(const std::string& value, const std::string& text) {
    if (value == "-1") {
        return RLIM_INFINITY;
    }
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        throw Error("invalid ulimit \"" + text + "\": \"" + value + "\" is not a number");
    }
    return n;
}

}  // namespace

Rlimit parse_ulimit(const std::string& text) {
    auto eq = text.find('=');
    if (eq == std::string::npos) {
        throw Error("invalid ulimit \"" + text + "\": expected name=soft[:hard]");
    }
    auto values = text.substr(eq + 1);
    auto colon = values.find(':');
    Rlimit limit{resource_of(text.substr(0, eq), text), limit_value(values.substr(0, colon), text),
                 0};
    limit.hard =
        colon == std::string::npos ? limit.soft : limit_value(values.substr(colon + 1), text);
    if (limit.soft > limit.hard) {
        throw Error("invalid ulimit \"" + text + "\": soft limit above the hard limit");
    }
    return limit;
}

void apply_rlimits(const std::vector<Rlimit>& limits) {
    for (const auto& l : limits) {
        rlimit value{l.soft, l.hard};
        if (setrlimit(static_cast<__rlimit_resource>(l.resource), &value) != 0) {
            throw system_error(std::string("cannot set ulimit ") + name_of(l.resource), errno);
        }
    }
}

}  // namespace sdrun
