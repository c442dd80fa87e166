#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/container/image_config.hpp"
#include "runtime/container/layer_store.hpp"
#include "runtime/container/platform.hpp"

// Imported images: <root>/images/<name>/image.json names the image's layers, which live once in
// the layer store (<root>/layers/sha256/<hex>/diff) however many images share them. An import's
// commit, remove() and record_use() hold a lock on the store (flock on <root>/images.lock), so
// a removal never takes a layer an import has just unpacked or an image a run has just chosen.
namespace sdrun {

struct ImageInfo {
    std::string name;
    std::string id;      // digest of the image config (a rootfs tarball: of the tarball)
    std::string digest;  // of the manifest (OCI), config (docker archive) or tarball (rootfs)
    std::string format;  // "rootfs", "oci" or "docker-archive"
    std::string source;  // the file's path at import
    std::uintmax_t size = 0;
    std::string created;   // the image config's "created", else the import time (RFC 3339)
    std::string imported;  // RFC 3339, UTC
    Platform platform;     // unknown for a rootfs tarball imported without --platform
    std::vector<std::string> layers;  // digests, bottom layer first
    ImageConfig config;

    // What image.json holds and `image inspect` prints.
    nlohmann::json to_json() const;
    static ImageInfo from_json(const nlohmann::json& j);
};

struct Imported {
    ImageInfo image;
    std::vector<std::string> unpacked;  // the layers this import unpacked (others were there)
};

class ImageStore {
public:
    explicit ImageStore(std::filesystem::path root);

    // Imports a rootfs tarball (tar, gzip, zstd, ...), an OCI image layout (a tar of one, or
    // its directory) or a `docker save` archive as `name`. `platform` picks the image of a
    // multi-platform index (default: the host's, and then only an image for the host is
    // taken). Every blob is checked against its digest before use; layers the store already
    // has are not unpacked again. Refuses (sdrun::Error, nothing stored) a mismatching or
    // missing blob, no image for the platform, hostile archive entries (see unpack()), a bad
    // or existing name.
    Imported import(const std::string& name, const std::filesystem::path& file,
                    const std::optional<Platform>& platform = std::nullopt);
    std::vector<ImageInfo> list() const;
    bool contains(const std::string& name) const;
    // Throws if there is no such image.
    ImageInfo get(const std::string& name) const;
    // Removes the image and the layers no other image uses. Refuses while a container uses it.
    void remove(const std::string& name);

    // The directories an overlay stacks for `image`: top layer first, as lowerdir= wants them.
    std::vector<std::filesystem::path> lower_dirs(const ImageInfo& image) const;

    // Records in `container_dir` that the container uses image `name`: remove() refuses it
    // while that directory exists. Throws if the image is gone (removed since it was read).
    void record_use(const std::filesystem::path& container_dir, const std::string& name) const;
    // The containers (directories under <root>/containers) that use image `name`.
    std::vector<std::string> users(const std::string& name) const;

private:
    std::filesystem::path dir(const std::string& name) const;
    void remove_unused_layers();

    std::filesystem::path root_;
    std::filesystem::path images_;
    LayerStore layers_;
};

// Image and container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters.
bool valid_name(const std::string& name);

}  // namespace sdrun
