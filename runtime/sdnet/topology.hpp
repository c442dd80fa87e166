#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/libcni/cache.hpp"

// What `sdnet show` draws: per network, the host bridges its attachments hang off and, per
// attachment, the host end of its veth and the interface inside its network namespace. Built
// from the result cache, the configurations and netlink (read only).
namespace sdnet {

using nlohmann::json;

struct LinkView {
    std::string name;
    int index = 0;
    std::string kind;
    std::string mac;
    unsigned mtu = 0;
    bool up = false;
    int master = 0;
    std::vector<std::string> addresses;  // without IPv6 link-local ones
};

struct AttachmentView {
    libcni::CacheEntry entry;
    bool netns_exists = false;
    std::optional<LinkView> host_link;       // host end (veth peer) in the host netns
    std::optional<LinkView> container_link;  // entry.ifname inside the netns
    std::string problem;                     // why the netns could not be read, if so
};

struct NetworkView {
    std::string name;
    std::vector<std::string> plugins;
    std::vector<LinkView> bridges;  // host bridges named by the config or the results
    std::vector<AttachmentView> attachments;
};

// The networks to show: `only` if given (its configuration or, failing that, its cached
// attachments must exist), else every network of `conf_dir` plus any that only the cache knows.
// Throws libcni::NotFoundError, netlib::Error.
std::vector<NetworkView> gather_topology(const libcni::ResultCache& cache,
                                         const std::filesystem::path& conf_dir,
                                         const std::optional<std::string>& only);

json to_json(const std::vector<NetworkView>& networks);

}  // namespace sdnet
