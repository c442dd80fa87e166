#include "runtime/container/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <memory>
#include <optional>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "netlib/fd.hpp"
#include "runtime/container/digest.hpp"
#include "runtime/container/error.hpp"

namespace sdrun {
namespace fs = std::filesystem;

namespace {

using ReadArchive = std::unique_ptr<archive, decltype(&archive_read_free)>;
using WriteArchive = std::unique_ptr<archive, decltype(&archive_write_free)>;

constexpr const char* kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaqueMarker = ".wh..wh..opq";

ReadArchive open_archive(const fs::path& file) {
    ReadArchive in(archive_read_new(), archive_read_free);
    archive_read_support_format_tar(in.get());
    archive_read_support_format_gnutar(in.get());
    archive_read_support_filter_all(in.get());
    if (archive_read_open_filename(in.get(), file.c_str(), 1 << 16) != ARCHIVE_OK) {
        throw Error("cannot read " + file.string() + ": " + archive_error_string(in.get()));
    }
    return in;
}

// "./a/b" and "a/b" alike.
std::string normalized(const char* path) {
    std::string p = path != nullptr ? path : "";
    while (p.rfind("./", 0) == 0) {
        p.erase(0, 2);
    }
    return p;
}

// A path inside the archive that stays inside the rootfs: relative, no ".." component.
bool contained(const char* path) {
    if (path == nullptr || path[0] == '/') {
        return false;
    }
    for (const auto& part : fs::path(path)) {
        if (part == "..") {
            return false;
        }
    }
    return true;
}

// A directory on the way to `path` (relative to the current directory, the rootfs) that is a
// symlink: writing there would land wherever it points, maybe outside the rootfs.
std::optional<std::string> symlink_on_the_way(const fs::path& path) {
    fs::path prefix;
    for (const auto& part : path.parent_path()) {
        prefix /= part;
        struct stat st = {};
        if (lstat(prefix.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
            return prefix.string();
        }
    }
    return std::nullopt;
}

void check_hardlink(const std::string& shown, const char* target) {
    if (!contained(target)) {
        throw Error("refusing hard link \"" + shown + "\": its target escapes the rootfs");
    }
    // link(2) follows symlinks on the way to its target: a link to "etc/shadow" with "etc" a
    // symlink to /etc would link the host's file into the image.
    if (auto link = symlink_on_the_way(target)) {
        throw Error("refusing hard link \"" + shown +
                    "\": its target is reached through the symlink " + *link);
    }
}

void check_entry(archive_entry* entry) {
    const char* path = archive_entry_pathname(entry);
    std::string shown = path != nullptr ? path : "(no name)";
    if (!contained(path)) {
        throw Error("refusing archive entry \"" + shown + "\": it escapes the rootfs");
    }
    if (const char* hardlink = archive_entry_hardlink(entry)) {
        check_hardlink(shown, hardlink);
    }
    if (auto link = symlink_on_the_way(path)) {
        throw Error("refusing archive entry \"" + shown + "\": it is written through the symlink " +
                    *link);
    }
    auto type = archive_entry_filetype(entry);
    if (type == AE_IFCHR || type == AE_IFBLK) {
        throw Error("refusing device node \"" + shown + "\" in the image");
    }
}

// Restores the working directory on scope exit: libarchive extracts relative to it.
class CwdGuard {
public:
    explicit CwdGuard(const fs::path& dir) : old_(netlib::Fd::open(".", O_RDONLY | O_DIRECTORY)) {
        if (chdir(dir.c_str()) != 0) {
            throw system_error("cannot enter " + dir.string(), errno);
        }
    }

    CwdGuard(const CwdGuard&) = delete;
    CwdGuard& operator=(const CwdGuard&) = delete;

    ~CwdGuard() { (void)fchdir(old_.get()); }

private:
    netlib::Fd old_;
};

void copy_data(archive* in, archive* out) {
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = ARCHIVE_OK;
    while ((r = archive_read_data_block(in, &block, &size, &offset)) == ARCHIVE_OK) {
        if (archive_write_data_block(out, block, size, offset) != ARCHIVE_OK) {
            throw Error(std::string("cannot write: ") + archive_error_string(out));
        }
    }
    if (r != ARCHIVE_EOF) {
        throw Error(std::string("cannot read the archive: ") + archive_error_string(in));
    }
}

// Writes what a whiteout entry stands for, as overlayfs reads it from a lower layer; false for
// an entry that is no whiteout. The entry's path was checked (contained, no symlink on the way).
bool write_whiteout(const fs::path& path) {
    auto base = path.filename().string();
    if (base.rfind(kWhiteoutPrefix, 0) != 0) {
        return false;
    }
    auto parent = path.parent_path();
    if (!parent.empty()) {
        fs::create_directories(parent);
    }
    auto dir = parent.empty() ? fs::path(".") : parent;
    if (base == kOpaqueMarker) {
        if (setxattr(dir.c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
            throw system_error("cannot mark " + dir.string() + " opaque", errno);
        }
        return true;
    }
    auto hidden = base.substr(std::string(kWhiteoutPrefix).size());
    if (hidden.empty() || hidden == "." || hidden == "..") {
        throw Error("refusing whiteout \"" + path.string() + "\": it names no file");
    }
    auto target = dir / hidden;
    if (mknod(target.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0) {
        throw system_error("cannot write the whiteout of " + target.string(), errno);
    }
    return true;
}

void write_entry(archive* in, archive* out, archive_entry* entry) {
    if (archive_write_header(out, entry) != ARCHIVE_OK) {
        throw Error("refusing archive entry \"" + std::string(archive_entry_pathname(entry)) +
                    "\": " + archive_error_string(out));
    }
    copy_data(in, out);
    if (archive_write_finish_entry(out) != ARCHIVE_OK) {
        throw Error(std::string("cannot finish ") + archive_entry_pathname(entry) + ": " +
                    archive_error_string(out));
    }
}

// Extracts `tarball` into the current directory, entry by entry, checked before writing.
// libarchive's SECURE_* flags refuse the same escapes once more, and writes through symlinks.
void extract_here(const fs::path& tarball, Unpack mode) {
    auto in = open_archive(tarball);
    WriteArchive out(archive_write_disk_new(), archive_write_free);
    archive_write_disk_set_options(
        out.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                       ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
    archive_entry* entry = nullptr;
    int r = ARCHIVE_OK;
    while ((r = archive_read_next_header(in.get(), &entry)) == ARCHIVE_OK) {
        check_entry(entry);
        if (mode == Unpack::Layer && write_whiteout(normalized(archive_entry_pathname(entry)))) {
            continue;
        }
        write_entry(in.get(), out.get(), entry);
    }
    if (r != ARCHIVE_EOF) {
        throw Error("cannot read " + tarball.string() + ": " + archive_error_string(in.get()));
    }
}

}  // namespace

ArchiveKind detect_archive(const fs::path& file) {
    if (fs::is_directory(file)) {
        if (fs::exists(file / "oci-layout")) {
            return ArchiveKind::OciLayout;
        }
        throw Error("cannot import the directory " + file.string() +
                    ": it holds no OCI image layout (no oci-layout file)");
    }
    auto in = open_archive(file);
    bool oci = false;
    bool docker = false;
    archive_entry* entry = nullptr;
    int r = ARCHIVE_OK;
    while ((r = archive_read_next_header(in.get(), &entry)) == ARCHIVE_OK) {
        auto name = normalized(archive_entry_pathname(entry));
        oci = oci || name == "oci-layout";
        docker = docker || name == "manifest.json";
        archive_read_data_skip(in.get());
    }
    if (r != ARCHIVE_EOF) {
        throw Error("cannot read " + file.string() + ": " + archive_error_string(in.get()));
    }
    // A `docker save` of docker 25+ is an OCI layout too, with manifest.json beside it: the
    // docker manifest says which layer is which without walking the index.
    if (docker) {
        return ArchiveKind::DockerArchive;
    }
    return oci ? ArchiveKind::OciLayout : ArchiveKind::Rootfs;
}

std::string uncompressed_sha256(const fs::path& file) {
    ReadArchive in(archive_read_new(), archive_read_free);
    archive_read_support_format_raw(in.get());
    archive_read_support_filter_all(in.get());
    archive_entry* entry = nullptr;
    if (archive_read_open_filename(in.get(), file.c_str(), 1 << 16) != ARCHIVE_OK ||
        archive_read_next_header(in.get(), &entry) != ARCHIVE_OK) {
        throw Error("cannot read " + file.string() + ": " + archive_error_string(in.get()));
    }
    Sha256 hash;
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = ARCHIVE_OK;
    while ((r = archive_read_data_block(in.get(), &block, &size, &offset)) == ARCHIVE_OK) {
        hash.update(block, size);
    }
    if (r != ARCHIVE_EOF) {
        throw Error("cannot read " + file.string() + ": " + archive_error_string(in.get()));
    }
    return hash.finish();
}

void unpack(const fs::path& tarball, const fs::path& dir, Unpack mode) {
    auto file = fs::absolute(tarball);  // extraction runs in `dir`
    CwdGuard cwd(dir);
    extract_here(file, mode);
}

}  // namespace sdrun
