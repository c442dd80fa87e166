#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cni {

enum class Command { Add, Del, Check, Gc, Status, Version };

std::optional<Command> parse_command(std::string_view text);
const char* to_string(Command c);

// Reads an environment variable; injectable so the dispatcher runs in unit tests.
using Getenv = std::function<std::optional<std::string>(const char* name)>;
Getenv process_getenv();

// The CNI_* environment of one call, validated as the spec and the reference dispatcher do.
struct Env {
    Command command = Command::Version;
    std::string container_id;  // CNI_CONTAINERID
    std::string netns;         // CNI_NETNS (may be empty on DEL)
    std::string ifname;        // CNI_IFNAME
    std::string args;          // CNI_ARGS, "K=V;K2=V2"
    std::string path;          // CNI_PATH, ':'-separated plugin dirs

    // Reads and validates the variables `command` needs; throws cni::Error(InvalidEnv) naming
    // every missing variable at once, or the invalid one.
    static Env load(Command command, const Getenv& getenv);
};

// Container ids: ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ (also the rule for network names).
bool valid_id(std::string_view id);
// Interface names: 1..15 bytes, not "." or "..", no '/', ':' or whitespace. Returns the reason
// it is invalid, or nullopt.
std::optional<std::string> ifname_problem(std::string_view name);

// CNI_ARGS, "IgnoreUnknown=1;IP=10.0.0.5;MAC=...". Like the reference, keys are
// case-sensitive and a key the plugin does not know is an error unless IgnoreUnknown is set.
class CniArgs {
public:
    // Throws cni::Error(InvalidEnv) for a pair without '='.
    static CniArgs parse(std::string_view text);

    std::optional<std::string> get(std::string_view key) const;

    // Every pair, in order.
    const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

    // Throws cni::Error(InvalidEnv) listing keys outside `known` (IgnoreUnknown is always known)
    // unless IgnoreUnknown is 1/true.
    void check_known(std::initializer_list<std::string_view> known) const;

private:
    std::vector<std::pair<std::string, std::string>> pairs_;
};

}  // namespace cni
