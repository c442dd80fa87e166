// An OCI image layout (image-spec image-layout.md): oci-layout, index.json, blobs/sha256/<hex>.
#include <optional>

#include "runtime/container/digest.hpp"
#include "runtime/container/image_source.hpp"

namespace sdrun {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kMaxIndexDepth = 4;  // an index of indexes of ...: bounded against loops

bool is_index(const std::string& media_type) {
    return media_type == "application/vnd.oci.image.index.v1+json" ||
           media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

std::string string_of(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

class Layout {
public:
    explicit Layout(fs::path dir) : dir_(std::move(dir)) {}

    // The blob a descriptor points at, its size and sha256 checked.
    fs::path blob(const json& descriptor, const std::string& what) const {
        if (!descriptor.is_object()) {
            throw Error(what + ": descriptor is not an object");
        }
        auto digest = string_of(descriptor, "digest");
        auto file = source::confined(dir_, "blobs/sha256/" + digest_hex(digest, what));
        std::error_code ec;
        if (!fs::is_regular_file(file, ec)) {
            throw Error(what + " " + digest + " is missing from the layout");
        }
        auto size = descriptor.find("size");
        if (size != descriptor.end() && size->is_number_unsigned() &&
            size->get<std::uintmax_t>() != fs::file_size(file)) {
            throw Error(what + " " + digest + " has " + std::to_string(fs::file_size(file)) +
                        " bytes, its descriptor says " + size->dump() + "; nothing imported");
        }
        verify_blob(file, digest, what + " " + digest);
        return file;
    }

    json blob_json(const json& descriptor, const std::string& what) const {
        return source::read_json(blob(descriptor, what), what);
    }

    // Every manifest descriptor reachable from `index`, nested indexes walked.
    void manifests(const json& index, int depth, std::vector<json>& out) const {
        auto list = index.find("manifests");
        if (list == index.end() || !list->is_array()) {
            throw Error("image index has no \"manifests\" list");
        }
        for (const auto& d : *list) {
            if (is_index(string_of(d, "mediaType")) && depth < kMaxIndexDepth) {
                manifests(blob_json(d, "image index"), depth + 1, out);
            } else if (d.is_object()) {
                out.push_back(d);
            }
        }
    }

    const fs::path& dir() const { return dir_; }

private:
    fs::path dir_;
};

struct Candidate {
    json descriptor;
    Platform platform;
};

// The manifest's platform: from its descriptor in the index, else from its config.
Platform platform_of(const Layout& layout, const json& descriptor) {
    auto p = descriptor.find("platform");
    if (p != descriptor.end()) {
        return Platform::of(*p);
    }
    auto manifest = layout.blob_json(descriptor, "manifest");
    auto config = manifest.find("config");
    if (config == manifest.end()) {
        throw Error("manifest " + string_of(descriptor, "digest") + " has no config");
    }
    return Platform::of(layout.blob_json(*config, "image config"));
}

// The layer blobs, verified, each with the diff id the config gives it (checked when unpacked).
std::vector<LayerBlob> layers_of(const Layout& layout, const json& manifest, const json& config) {
    auto list = manifest.find("layers");
    if (list == manifest.end() || !list->is_array() || list->empty()) {
        throw Error("manifest has no layers");
    }
    auto rootfs = config.value("rootfs", json::object());
    auto diff_ids = rootfs.is_object() ? rootfs.value("diff_ids", json::array()) : json::array();
    if (!diff_ids.is_array() || diff_ids.size() != list->size()) {
        throw Error("image config lists " + std::to_string(diff_ids.size()) +
                    " layer diff ids for " + std::to_string(list->size()) + " layers");
    }
    std::vector<LayerBlob> out;
    for (const auto& d : *list) {
        auto media_type = string_of(d, "mediaType");
        if (media_type.find("tar") == std::string::npos) {
            throw Error("unsupported layer media type \"" + media_type + "\"");
        }
        auto n = std::to_string(out.size() + 1);
        auto file = layout.blob(d, "layer " + n);
        auto diff_id =
            diff_ids[out.size()].is_string() ? diff_ids[out.size()].get<std::string>() : "";
        digest_hex(diff_id, "layer " + n + " diff id");
        out.push_back({diff_id, file, diff_id == string_of(d, "digest")});
    }
    return out;
}

}  // namespace

SourceImage read_oci_layout(const fs::path& dir, const PlatformChoice& choice) {
    Layout layout(dir);
    auto marker = source::read_json(dir / "oci-layout", "OCI layout marker");
    if (!marker.is_object() || !marker.contains("imageLayoutVersion")) {
        throw Error("oci-layout has no imageLayoutVersion: not an OCI image layout");
    }
    std::vector<json> descriptors;
    layout.manifests(source::read_json(dir / "index.json", "OCI index"), 0, descriptors);
    std::vector<Platform> offered;
    std::optional<json> chosen;
    for (const auto& d : descriptors) {
        offered.push_back(platform_of(layout, d));
        if (offered.back().fits(choice.wanted)) {
            chosen = d;
            break;
        }
    }
    if (!chosen) {
        throw source::no_platform(choice, offered);
    }
    auto manifest = layout.blob_json(*chosen, "manifest");
    auto config_descriptor = manifest.value("config", json::object());
    SourceImage image;
    image.format = "oci";
    image.digest = string_of(*chosen, "digest");
    image.id = string_of(config_descriptor, "digest");
    image.config = layout.blob_json(config_descriptor, "image config");
    image.platform = Platform::of(image.config);
    if (!image.platform.fits(choice.wanted)) {  // the index said otherwise: the config counts
        throw source::no_platform(choice, {image.platform});
    }
    image.layers = layers_of(layout, manifest, image.config);
    return image;
}

}  // namespace sdrun
