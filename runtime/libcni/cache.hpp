#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The result cache, in libcni's format and place (containernetworking/cni libcni/api.go,
// cachedInfo), so attachments made by sdnet, podman and containerd are visible to each other:
//   <cacheDir>/results/<network>-<containerID>-<ifname>   (dir 0700, file 0600)
//   {"kind":"cniCacheV1","containerId","config":<base64 of the conflist bytes>,"ifName",
//    "networkName","netns","cniArgs":[[k,v],...],"capabilityArgs":{...},"result":{...}}
// netns, cniArgs, capabilityArgs and result are left out when empty (Go's omitempty). libcni
// writes netns only from 1.2; reading an entry without it, the netns is the sandbox the result
// gives the entry's interface.
namespace libcni {

using nlohmann::json;

inline constexpr std::string_view kDefaultCacheDir = "/var/lib/cni";
inline constexpr std::string_view kCacheKind = "cniCacheV1";

using CniArgs = std::vector<std::pair<std::string, std::string>>;

// One cached attachment (libcni cachedInfo / NetworkAttachment).
struct CacheEntry {
    std::string container_id;
    std::string config;  // raw conflist bytes (base64 in the file)
    std::string ifname;
    std::string network;
    std::string netns;  // empty when neither the entry nor its result says
    CniArgs cni_args;
    json capability_args = json::object();
    json result;  // the final ADD result as the plugin printed it; null if absent

    bool operator==(const CacheEntry&) const = default;
};

// The file's bytes for `e`, with libcni's key order.
std::string encode_cache(const CacheEntry& e);

// Parses a cniCacheV1 file. Throws CacheError (naming `source`) for invalid JSON, another
// kind, or fields of the wrong type.
CacheEntry decode_cache(std::string_view bytes, const std::string& source);

// RFC 4648 base64 with padding, as Go's encoding/json writes []byte. decode throws
// std::invalid_argument on malformed input.
std::string base64_encode(std::string_view data);
std::string base64_decode(std::string_view text);

class ResultCache {
public:
    explicit ResultCache(std::filesystem::path cache_dir = kDefaultCacheDir);

    const std::filesystem::path& dir() const noexcept { return dir_; }

    // <dir>/results/<network>-<containerID>-<ifname>; throws ArgumentError if a part is empty.
    std::filesystem::path path_for(std::string_view network, std::string_view container_id,
                                   std::string_view ifname) const;

    // Writes atomically (temporary file + rename), creating missing directories with 0700.
    // Throws CacheError.
    void write(const CacheEntry& e) const;

    // The entry, or nullopt when there is no file. Throws CacheError for an unreadable, empty
    // or corrupt file.
    std::optional<CacheEntry> read(std::string_view network, std::string_view container_id,
                                   std::string_view ifname) const;

    // libcni getCachedResult: the cached result of a cniCacheV1 file, or a legacy file that
    // holds only the result JSON. nullopt when there is no file. Throws CacheError when the file
    // is neither.
    std::optional<json> read_result(std::string_view network, std::string_view container_id,
                                    std::string_view ifname) const;

    // Removes the entry; false if it was not there. Throws CacheError on other failures.
    bool remove(std::string_view network, std::string_view container_id,
                std::string_view ifname) const;

    // libcni GetCachedAttachments: every readable cniCacheV1 entry with a network and an
    // interface name, sorted by file name, optionally only those of `container_id`. Files that
    // cannot be parsed are skipped.
    std::vector<CacheEntry> list(std::string_view container_id = {}) const;

private:
    std::filesystem::path dir_;
};

}  // namespace libcni
