#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

// Images imported from rootfs tarballs, one directory each: <root>/images/<name>/rootfs and
// <root>/images/<name>/image.json ({name, digest "sha256:<hex>", source, size, created}).
namespace sdrun {

struct ImageInfo {
    std::string name;
    std::string digest;  // of the tarball as imported
    std::string source;  // the tarball's path at import
    std::uintmax_t size = 0;
    std::string created;  // RFC 3339, UTC
};

class ImageStore {
public:
    explicit ImageStore(std::filesystem::path root);

    // Unpacks a tar or tar.gz rootfs. Refuses (sdrun::Error, nothing stored) entries that would
    // land outside the rootfs (absolute paths, "..", writes through a symlink, hard links out),
    // device nodes, a bad or existing name.
    ImageInfo import(const std::string& name, const std::filesystem::path& tarball);
    std::vector<ImageInfo> list() const;
    // Throws if there is no such image.
    ImageInfo get(const std::string& name) const;
    void remove(const std::string& name);
    std::filesystem::path rootfs(const std::string& name) const;

private:
    std::filesystem::path dir(const std::string& name) const;

    std::filesystem::path images_;
};

// "sha256:<hex>" of a file's content.
std::string sha256_file(const std::filesystem::path& file);

// Image and container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters.
bool valid_name(const std::string& name);

}  // namespace sdrun
