// A `docker save` archive: manifest.json lists each image's config and layer tars. The config
// is named by its digest (<hex>.json, or blobs/sha256/<hex> since docker 25), and its
// rootfs.diff_ids are the digests of the (uncompressed) layer tars.
#include "runtime/container/digest.hpp"
#include "runtime/container/image_source.hpp"

namespace sdrun {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The digest a config's name in the archive stands for.
std::string config_digest(const std::string& name) {
    auto stem = fs::path(name).filename().string();
    if (stem.size() > 5 && stem.substr(stem.size() - 5) == ".json") {
        stem.resize(stem.size() - 5);
    }
    auto digest = "sha256:" + stem;
    if (!valid_digest(digest)) {
        throw Error("cannot tell the digest of the image config \"" + name +
                    "\" from its name; nothing imported");
    }
    return digest;
}

struct Entry {
    std::string digest;
    json config;
    json layers;
};

Entry read_entry(const fs::path& dir, const json& item) {
    if (!item.is_object() || !item.contains("Config") || !item["Config"].is_string() ||
        !item.contains("Layers") || !item["Layers"].is_array()) {
        throw Error("manifest.json: an entry without Config or Layers");
    }
    auto name = item["Config"].get<std::string>();
    auto digest = config_digest(name);
    auto file = source::confined(dir, name);
    verify_blob(file, digest, "image config " + digest);
    return {digest, source::read_json(file, "image config"), item["Layers"]};
}

std::vector<LayerBlob> layers_of(const fs::path& dir, const Entry& entry) {
    auto rootfs = entry.config.value("rootfs", json::object());
    auto diff_ids = rootfs.is_object() ? rootfs.value("diff_ids", json::array()) : json::array();
    if (entry.layers.empty() || !diff_ids.is_array() || diff_ids.size() != entry.layers.size()) {
        throw Error("image config " + entry.digest + " lists " + std::to_string(diff_ids.size()) +
                    " layer digests for " + std::to_string(entry.layers.size()) + " layers");
    }
    std::vector<LayerBlob> out;
    for (std::size_t i = 0; i < entry.layers.size(); ++i) {
        if (!entry.layers[i].is_string() || !diff_ids[i].is_string()) {
            throw Error("manifest.json: layer " + std::to_string(i + 1) + " is not a name");
        }
        auto what = "layer " + std::to_string(i + 1);
        auto digest = diff_ids[i].get<std::string>();
        digest_hex(digest, what);
        auto file = source::confined(dir, entry.layers[i].get<std::string>());
        verify_blob(file, digest, what + " (" + entry.layers[i].get<std::string>() + ")");
        out.push_back({digest, file, true});
    }
    return out;
}

}  // namespace

SourceImage read_docker_archive(const fs::path& dir, const PlatformChoice& choice) {
    auto manifest = source::read_json(dir / "manifest.json", "docker manifest");
    if (!manifest.is_array() || manifest.empty()) {
        throw Error("manifest.json lists no image");
    }
    std::vector<Platform> offered;
    for (const auto& item : manifest) {
        auto entry = read_entry(dir, item);
        offered.push_back(Platform::of(entry.config));
        if (!offered.back().fits(choice.wanted)) {
            continue;
        }
        SourceImage image;
        image.format = "docker-archive";
        image.digest = entry.digest;
        image.id = entry.digest;
        image.platform = offered.back();
        image.layers = layers_of(dir, entry);
        image.config = std::move(entry.config);
        return image;
    }
    throw source::no_platform(choice, offered);
}

}  // namespace sdrun
