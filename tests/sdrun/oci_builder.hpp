#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/sdrun/support.hpp"

// OCI image layouts written by hand for the image tests: blobs named by their sha256, configs,
// manifests, indexes; `skopeo copy` turns them into docker archives.
namespace sdrun_test {

using nlohmann::json;

struct Blob {
    std::string digest;   // "sha256:<hex>" of the blob as stored
    std::string diff_id;  // of its uncompressed content (a layer's)
    std::uintmax_t size = 0;
    std::string media_type;

    json descriptor() const;
};

class OciLayout {
public:
    // Creates `dir` with oci-layout and blobs/sha256/.
    explicit OciLayout(fs::path dir);

    const fs::path& dir() const { return dir_; }

    fs::path blob_path(const Blob& blob) const;
    // The digest of the config a manifest names.
    std::string config_digest(const Blob& manifest) const;

    // A layer from a tarball file (gzip-compressed when it ends in .gz), copied in.
    Blob layer(const fs::path& tarball);
    // An uncompressed layer written entry by entry.
    Blob layer(const std::function<void(Tarball&)>& fill);
    // The image config (`config` as its "config" object, `platform` "os/arch[/variant]",
    // rootfs.diff_ids of `layers`) and its manifest; returns the manifest.
    Blob image(const std::vector<Blob>& layers, const json& config,
               const std::string& platform = "linux/amd64");
    // index.json: the manifests, each with its platform ("" leaves the descriptor without one).
    void index(const std::vector<std::pair<Blob, std::string>>& manifests);
    // The same index as a blob, for an index of indexes.
    Blob index_blob(const std::vector<std::pair<Blob, std::string>>& manifests);
    // A tar of the layout.
    fs::path tar(const fs::path& file) const;

private:
    Blob put(const fs::path& file, const std::string& media_type, const std::string& diff_id);
    Blob put_json(const json& j, const std::string& media_type);
    static json index_json(const std::vector<std::pair<Blob, std::string>>& manifests);

    fs::path dir_;
    int counter_ = 0;
};

// The platform of this host in OCI terms ("linux/amd64") and one it is not.
std::string host_platform();
std::string foreign_platform();

// `skopeo copy oci:<layout> docker-archive:<file>`: a docker save archive written by a real tool.
fs::path docker_archive(const OciLayout& layout, const fs::path& file);

// "sha256:<hex>" of the gzip-decompressed content of `file`.
std::string gunzipped_sha256(const fs::path& file);

}  // namespace sdrun_test
