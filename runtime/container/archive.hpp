#pragma once

#include <filesystem>

// Reading image archives with libarchive (tar, any compression it knows: gzip, zstd, xz, ...).
namespace sdrun {

enum class ArchiveKind {
    Rootfs,         // a tarball of a root filesystem
    OciLayout,      // a tar of an OCI image layout: oci-layout, index.json, blobs/sha256/...
    DockerArchive,  // `docker save`: manifest.json, the configs and layer tars
};

// What `file` (an archive, or a directory holding an OCI layout) is, from its entries' names.
ArchiveKind detect_archive(const std::filesystem::path& file);

// "sha256:<hex>" of the file's content after decompression (gzip, zstd, ...; an uncompressed
// file as it is): a layer's diff id, as image configs list them.
std::string uncompressed_sha256(const std::filesystem::path& file);

enum class Unpack {
    Plain,  // files as they are (the outer tar of a layout or a `docker save`)
    Layer,  // a layer: `.wh.NAME` becomes an overlay whiteout (char device 0/0) and
            // `.wh..wh..opq` an opaque directory (xattr trusted.overlay.opaque=y)
};

// Unpacks `tarball` into the existing directory `dir`. Refuses (sdrun::Error, one line naming
// the entry) entries that would land outside `dir` (absolute paths, "..", writes through a
// symlink, hard links out or through a symlink) and device nodes; what was written before the
// refusal stays for the caller to remove.
void unpack(const std::filesystem::path& tarball, const std::filesystem::path& dir, Unpack mode);

}  // namespace sdrun
