#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/container/error.hpp"
#include "runtime/container/platform.hpp"

// Reading an unpacked OCI image layout or `docker save` archive: which image to take, its
// config and its layer blobs, every blob checked against its digest before anything uses it.
namespace sdrun {

struct LayerBlob {
    std::string diff_id;  // of the uncompressed tar: what the layer is stored as
    std::filesystem::path file;
    bool diff_id_checked = false;  // the file hashed to diff_id already (uncompressed)
};

struct SourceImage {
    std::string format;  // "rootfs", "oci" or "docker-archive"
    std::string digest;  // of the manifest (OCI layout) or the config (docker archive)
    std::string id;      // of the config, as docker names images
    nlohmann::json config;
    Platform platform;              // the config's
    std::vector<LayerBlob> layers;  // bottom first
};

// The platform to pick when a file holds several images.
struct PlatformChoice {
    Platform wanted;
    bool by_user = false;  // --platform named it (else: the host's)
};

// Throws sdrun::Error (one line, nothing stored) for a missing or mismatching blob, no image
// for the platform, or files that are no layout.
SourceImage read_oci_layout(const std::filesystem::path& dir, const PlatformChoice& choice);
SourceImage read_docker_archive(const std::filesystem::path& dir, const PlatformChoice& choice);

// Shared by both readers.
namespace source {

nlohmann::json read_json(const std::filesystem::path& file, const std::string& what);
// `relative` below `dir` after symlinks are resolved; throws if it leads out.
std::filesystem::path confined(const std::filesystem::path& dir, const std::string& relative);
// The refusal when none of `offered` fits the choice.
Error no_platform(const PlatformChoice& choice, const std::vector<Platform>& offered);

}  // namespace source

}  // namespace sdrun
