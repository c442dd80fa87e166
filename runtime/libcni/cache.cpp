#include "runtime/libcni/cache.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <openssl/evp.h>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netlib/fd.hpp"
#include "runtime/libcni/error.hpp"

namespace libcni {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string errno_text(int err) {
    return std::strerror(err);
}

// Reads a whole file; nullopt when it does not exist. A symlink is an error, not followed: what it
// names could be any file (libcni follows it).
std::optional<std::string> slurp(const fs::path& file) {
    netlib::Fd fd{::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
    if (!fd) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        throw CacheError(file.string(), "cannot open: " + errno_text(errno));
    }
    std::string out;
    std::array<char, 8192> buf{};
    for (;;) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw CacheError(file.string(), "cannot read: " + errno_text(errno));
        }
        if (n == 0) {
            return out;
        }
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
}

void write_all(int fd, std::string_view data, const std::string& file) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw CacheError(file, "cannot write: " + errno_text(errno));
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

// mkdir -p with 0700 for the directories it creates (Go's os.MkdirAll(dir, 0o700)).
void make_private_dirs(const fs::path& dir) {
    fs::path partial;
    for (const auto& part : dir) {
        partial /= part;
        if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
            throw CacheError(dir.string(), "cannot create directory " + partial.string() + ": " +
                                               errno_text(errno));
        }
    }
}

const std::string& string_field(const json& j, const char* key, const std::string& source) {
    static const std::string kEmpty;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return kEmpty;
    }
    if (!it->is_string()) {
        throw CacheError(source, std::string{"\""} + key + "\" must be a string");
    }
    return it->get_ref<const std::string&>();
}

CniArgs decode_args(const json& j, const std::string& source) {
    CniArgs out;
    auto it = j.find("cniArgs");
    if (it == j.end() || it->is_null()) {
        return out;
    }
    if (!it->is_array()) {
        throw CacheError(source, "\"cniArgs\" must be a list of [key, value] pairs");
    }
    for (const auto& pair : *it) {
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
            throw CacheError(source, "\"cniArgs\" must be a list of [key, value] pairs");
        }
        out.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    }
    return out;
}

// The netns path the plugins put in the result as the sandbox of interface `ifname`: libcni
// before 1.2 (1.1.2 in Debian 12's podman 4.3) writes no "netns" field, and without it sdnet
// would take a live attachment for one whose netns is gone. Empty if the result does not say.
std::string sandbox_of(const json& result, const std::string& ifname) {
    json interfaces = result.is_object() ? result.value("interfaces", json::array()) : json{};
    if (!interfaces.is_array()) {
        return {};
    }
    for (const auto& i : interfaces) {
        if (i.is_object() && i.value("name", json{}) == ifname) {
            if (auto sandbox = i.value("sandbox", json{}); sandbox.is_string()) {
                return sandbox.get<std::string>();
            }
        }
    }
    return {};
}

json parse_json(std::string_view bytes, const std::string& source) {
    if (bytes.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        throw CacheError(source, "empty file");
    }
    try {
        return json::parse(bytes);
    } catch (const json::exception&) {  // parse_error, or out_of_range for a number like 1e999
        throw CacheError(source, "invalid JSON");
    }
}

}  // namespace

std::string base64_encode(std::string_view data) {
    std::string out((data.size() + 2) / 3 * 4 + 1, '\0');  // EVP_EncodeBlock adds a NUL
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(data.data()),
                            static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        throw std::invalid_argument("base64 length is not a multiple of 4");
    }
    // EVP_DecodeBlock is lenient where Go is not (it skips surrounding blanks and takes '='
    // anywhere), so the characters and the padding are checked here first.
    auto pad_at = text.find('=');
    std::size_t pad = pad_at == std::string_view::npos ? 0 : text.size() - pad_at;
    if (text.find_first_not_of(kAlphabet) < text.size() - pad || pad > 2 ||
        text.find_first_not_of('=', text.size() - pad) != std::string_view::npos) {
        throw std::invalid_argument("invalid base64 character");
    }
    std::string out(text.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0) {
        throw std::invalid_argument("invalid base64 character");
    }
    out.resize(static_cast<std::size_t>(n) - pad);  // it counts the padding as zero bytes
    return out;
}

std::string encode_cache(const CacheEntry& e) {
    nlohmann::ordered_json j;
    j["kind"] = kCacheKind;
    j["containerId"] = e.container_id;
    j["config"] = base64_encode(e.config);
    j["ifName"] = e.ifname;
    j["networkName"] = e.network;
    if (!e.netns.empty()) {
        j["netns"] = e.netns;
    }
    if (!e.cni_args.empty()) {
        auto& args = j["cniArgs"] = nlohmann::ordered_json::array();
        for (const auto& [k, v] : e.cni_args) {
            args.push_back({k, v});
        }
    }
    if (e.capability_args.is_object() && !e.capability_args.empty()) {
        j["capabilityArgs"] = nlohmann::ordered_json::parse(e.capability_args.dump());
    }
    if (e.result.is_object() && !e.result.empty()) {
        j["result"] = nlohmann::ordered_json::parse(e.result.dump());
    }
    return j.dump();
}

CacheEntry decode_cache(std::string_view bytes, const std::string& source) {
    json j = parse_json(bytes, source);
    if (!j.is_object()) {
        throw CacheError(source, "not a JSON object");
    }
    if (string_field(j, "kind", source) != kCacheKind) {
        throw CacheError(source, "kind is not \"cniCacheV1\"");
    }
    CacheEntry e;
    e.container_id = string_field(j, "containerId", source);
    try {
        e.config = base64_decode(string_field(j, "config", source));
    } catch (const std::invalid_argument& err) {
        throw CacheError(source, std::string{"\"config\": "} + err.what());
    }
    e.ifname = string_field(j, "ifName", source);
    e.network = string_field(j, "networkName", source);
    e.netns = string_field(j, "netns", source);
    e.cni_args = decode_args(j, source);
    for (const char* key : {"capabilityArgs", "result"}) {
        if (auto it = j.find(key); it != j.end() && !it->is_null() && !it->is_object()) {
            throw CacheError(source, std::string{"\""} + key + "\" must be an object");
        }
    }
    if (auto it = j.find("capabilityArgs"); it != j.end() && it->is_object()) {
        e.capability_args = *it;
    }
    if (auto it = j.find("result"); it != j.end()) {
        e.result = *it;
    }
    if (e.netns.empty()) {
        e.netns = sandbox_of(e.result, e.ifname);
    }
    return e;
}

ResultCache::ResultCache(fs::path cache_dir) : dir_(std::move(cache_dir)) {}

fs::path ResultCache::path_for(std::string_view network, std::string_view container_id,
                               std::string_view ifname) const {
    if (network.empty() || container_id.empty() || ifname.empty()) {
        throw ArgumentError(
            "cache file path needs a network name, container id and interface name");
    }
    std::string name{network};
    name.append("-").append(container_id).append("-").append(ifname);
    return dir_ / "results" / name;
}

void ResultCache::write(const CacheEntry& e) const {
    fs::path file = path_for(e.network, e.container_id, e.ifname);
    make_private_dirs(file.parent_path());
    // A dot name: listings (ours and libcni's) skip or fail to parse a half-written file.
    std::string tmp = (file.parent_path() / ("." + file.filename().string() + ".XXXXXX")).string();
    netlib::Fd fd{::mkostemp(tmp.data(), O_CLOEXEC)};  // mode 0600
    if (!fd) {
        throw CacheError(file.string(), "cannot create temporary file: " + errno_text(errno));
    }
    try {
        write_all(fd.get(), encode_cache(e), file.string());
        if (::fsync(fd.get()) != 0) {
            throw CacheError(file.string(), "fsync: " + errno_text(errno));
        }
        fd.reset();
        if (::rename(tmp.c_str(), file.c_str()) != 0) {
            throw CacheError(file.string(), "rename: " + errno_text(errno));
        }
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
}

std::optional<CacheEntry> ResultCache::read(std::string_view network, std::string_view container_id,
                                            std::string_view ifname) const {
    fs::path file = path_for(network, container_id, ifname);
    auto bytes = slurp(file);
    if (!bytes) {
        return std::nullopt;
    }
    return decode_cache(*bytes, file.string());
}

std::optional<json> ResultCache::read_result(std::string_view network,
                                             std::string_view container_id,
                                             std::string_view ifname) const {
    fs::path file = path_for(network, container_id, ifname);
    auto bytes = slurp(file);
    if (!bytes) {
        return std::nullopt;
    }
    json j = parse_json(*bytes, file.string());
    if (!j.is_object()) {
        throw CacheError(file.string(), "not a JSON object");
    }
    if (j.value("kind", json{}) != kCacheKind) {
        return j;  // legacy cache: the file is the result itself
    }
    auto entry = decode_cache(*bytes, file.string());
    if (!entry.result.is_object()) {
        throw CacheError(file.string(), "no result");
    }
    return entry.result;
}

bool ResultCache::remove(std::string_view network, std::string_view container_id,
                         std::string_view ifname) const {
    fs::path file = path_for(network, container_id, ifname);
    if (::unlink(file.c_str()) == 0) {
        return true;
    }
    if (errno == ENOENT) {
        return false;
    }
    throw CacheError(file.string(), "cannot remove: " + errno_text(errno));
}

std::vector<CacheEntry> ResultCache::list(std::string_view container_id) const {
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir_ / "results", ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->path().filename().string().starts_with(".")) {
            files.push_back(it->path());
        }
    }
    std::sort(files.begin(), files.end());
    std::string part = "-" + std::string{container_id} + "-";
    std::vector<CacheEntry> out;
    for (const auto& file : files) {
        auto name = file.filename().string();
        if (auto pos = name.find(part);
            !container_id.empty() &&
            (pos == 0 || pos == std::string::npos || pos + part.size() >= name.size())) {
            continue;
        }
        try {
            auto bytes = slurp(file);
            if (!bytes) {
                continue;
            }
            auto e = decode_cache(*bytes, file.string());
            if (e.ifname.empty() || e.network.empty() ||
                (!container_id.empty() && e.container_id != container_id)) {
                continue;
            }
            out.push_back(std::move(e));
        } catch (const CacheError&) {
            continue;  // as libcni: an unreadable entry is not an attachment
        }
    }
    return out;
}

}  // namespace libcni
