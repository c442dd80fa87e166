#include "tests/sdrun/oci_builder.hpp"

#include <stdexcept>

#include <sys/utsname.h>

namespace sdrun_test {

namespace {

constexpr const char* kLayerTar = "application/vnd.oci.image.layer.v1.tar";
constexpr const char* kLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr const char* kConfig = "application/vnd.oci.image.config.v1+json";
constexpr const char* kManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kIndex = "application/vnd.oci.image.index.v1+json";

json platform_json(const std::string& platform) {
    auto first = platform.find('/');
    auto second = platform.find('/', first + 1);
    json out = {{"os", platform.substr(0, first)},
                {"architecture", platform.substr(first + 1, second - first - 1)}};
    if (second != std::string::npos) {
        out["variant"] = platform.substr(second + 1);
    }
    return out;
}

}  // namespace

json Blob::descriptor() const {
    return {{"mediaType", media_type}, {"digest", digest}, {"size", size}};
}

OciLayout::OciLayout(fs::path dir) : dir_(std::move(dir)) {
    fs::create_directories(dir_ / "blobs/sha256");
    sdnet::test::write_file(dir_ / "oci-layout", R"({"imageLayoutVersion": "1.0.0"})");
}

fs::path OciLayout::blob_path(const Blob& blob) const {
    return dir_ / "blobs/sha256" / blob.digest.substr(7);
}

std::string OciLayout::config_digest(const Blob& manifest) const {
    auto j = json::parse(sdnet::test::read_file(blob_path(manifest)));
    return j["config"]["digest"].get<std::string>();
}

Blob OciLayout::put(const fs::path& file, const std::string& media_type,
                    const std::string& diff_id) {
    Blob b{sha256sum(file), diff_id, fs::file_size(file), media_type};
    fs::rename(file, blob_path(b));
    return b;
}

Blob OciLayout::put_json(const json& j, const std::string& media_type) {
    auto file = dir_ / ("json-" + std::to_string(counter_++));
    sdnet::test::write_file(file, j.dump());
    return put(file, media_type, "");
}

Blob OciLayout::layer(const fs::path& tarball) {
    auto file = dir_ / ("layer-" + std::to_string(counter_++));
    fs::copy_file(tarball, file);
    bool gzip = tarball.extension() == ".gz";
    auto diff_id = gzip ? gunzipped_sha256(file) : sha256sum(file);
    return put(file, gzip ? kLayerGzip : kLayerTar, diff_id);
}

Blob OciLayout::layer(const std::function<void(Tarball&)>& fill) {
    auto file = dir_ / ("layer-" + std::to_string(counter_++) + ".tar");
    {
        Tarball t(file);
        fill(t);
        t.close();
    }
    auto digest = sha256sum(file);
    return put(file, kLayerTar, digest);
}

Blob OciLayout::image(const std::vector<Blob>& layers, const json& config,
                      const std::string& platform) {
    json image = platform_json(platform);
    image["created"] = "2024-01-02T03:04:05Z";
    image["config"] = config;
    image["rootfs"] = {{"type", "layers"}, {"diff_ids", json::array()}};
    json manifest = {{"schemaVersion", 2}, {"mediaType", kManifest}, {"layers", json::array()}};
    for (const auto& l : layers) {
        image["rootfs"]["diff_ids"].push_back(l.diff_id);
        manifest["layers"].push_back(l.descriptor());
    }
    manifest["config"] = put_json(image, kConfig).descriptor();
    return put_json(manifest, kManifest);
}

json OciLayout::index_json(const std::vector<std::pair<Blob, std::string>>& manifests) {
    json index = {{"schemaVersion", 2}, {"mediaType", kIndex}, {"manifests", json::array()}};
    for (const auto& [blob, platform] : manifests) {
        auto d = blob.descriptor();
        if (!platform.empty()) {
            d["platform"] = platform_json(platform);
        }
        index["manifests"].push_back(d);
    }
    return index;
}

void OciLayout::index(const std::vector<std::pair<Blob, std::string>>& manifests) {
    sdnet::test::write_file(dir_ / "index.json", index_json(manifests).dump());
}

Blob OciLayout::index_blob(const std::vector<std::pair<Blob, std::string>>& manifests) {
    return put_json(index_json(manifests), kIndex);
}

fs::path OciLayout::tar(const fs::path& file) const {
    auto r = sdnet::test::run_process({"/bin/tar", "-C", dir_.string(), "-cf", file.string(), "."});
    if (r.status != 0) {
        throw std::runtime_error("tar failed: " + r.err);
    }
    return file;
}

std::string host_platform() {
    struct utsname u = {};
    uname(&u);
    return std::string(u.machine) == "aarch64" ? "linux/arm64" : "linux/amd64";
}

std::string foreign_platform() {
    return host_platform() == "linux/amd64" ? "linux/arm64" : "linux/amd64";
}

fs::path docker_archive(const OciLayout& layout, const fs::path& file) {
    auto r = sdnet::test::run_process({"/usr/bin/skopeo", "copy", "--quiet",
                                       "oci:" + layout.dir().string(),
                                       "docker-archive:" + file.string() + ":test/image:latest"});
    if (r.status != 0) {
        throw std::runtime_error("skopeo copy failed: " + r.err);
    }
    return file;
}

std::string gunzipped_sha256(const fs::path& file) {
    auto r =
        sdnet::test::run_process({"/bin/sh", "-c", "gzip -dc \"$0\" | sha256sum", file.string()});
    return "sha256:" + r.out.substr(0, r.out.find(' '));
}

}  // namespace sdrun_test
