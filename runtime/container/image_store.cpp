#include "runtime/container/image_store.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <chrono>
#include <ctime>
#include <fstream>
#include <memory>
#include <openssl/evp.h>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netlib/fd.hpp"
#include "runtime/container/error.hpp"

namespace sdrun {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kMetadata = "image.json";

using ReadArchive = std::unique_ptr<archive, decltype(&archive_read_free)>;
using WriteArchive = std::unique_ptr<archive, decltype(&archive_write_free)>;

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

void check_entry(archive_entry* entry) {
    const char* path = archive_entry_pathname(entry);
    std::string shown = path != nullptr ? path : "(no name)";
    if (!contained(path)) {
        throw Error("refusing archive entry \"" + shown + "\": it escapes the rootfs");
    }
    const char* hardlink = archive_entry_hardlink(entry);
    if (hardlink != nullptr && !contained(hardlink)) {
        throw Error("refusing hard link \"" + shown + "\": its target escapes the rootfs");
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

// Extracts `tarball` into the current directory, entry by entry, checked before writing.
// libarchive's SECURE_* flags refuse the same escapes once more, and writes through symlinks.
void extract_here(const fs::path& tarball) {
    ReadArchive in(archive_read_new(), archive_read_free);
    archive_read_support_format_tar(in.get());
    archive_read_support_format_gnutar(in.get());
    archive_read_support_filter_all(in.get());
    if (archive_read_open_filename(in.get(), tarball.c_str(), 1 << 16) != ARCHIVE_OK) {
        throw Error("cannot read " + tarball.string() + ": " + archive_error_string(in.get()));
    }
    WriteArchive out(archive_write_disk_new(), archive_write_free);
    archive_write_disk_set_options(
        out.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                       ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
    archive_entry* entry = nullptr;
    int r = ARCHIVE_OK;
    while ((r = archive_read_next_header(in.get(), &entry)) == ARCHIVE_OK) {
        check_entry(entry);
        if (archive_write_header(out.get(), entry) != ARCHIVE_OK) {
            throw Error("refusing archive entry \"" + std::string(archive_entry_pathname(entry)) +
                        "\": " + archive_error_string(out.get()));
        }
        copy_data(in.get(), out.get());
        if (archive_write_finish_entry(out.get()) != ARCHIVE_OK) {
            throw Error(std::string("cannot finish ") + archive_entry_pathname(entry) + ": " +
                        archive_error_string(out.get()));
        }
    }
    if (r != ARCHIVE_EOF) {
        throw Error("cannot read " + tarball.string() + ": " + archive_error_string(in.get()));
    }
}

std::string now_rfc3339() {
    auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

json to_json(const ImageInfo& i) {
    return {{"name", i.name},
            {"digest", i.digest},
            {"source", i.source},
            {"size", i.size},
            {"created", i.created}};
}

ImageInfo read_info(const fs::path& file) {
    std::ifstream in(file);
    auto j = json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        throw Error("corrupt image metadata " + file.string());
    }
    return {j.value("name", ""), j.value("digest", ""), j.value("source", ""),
            j.value("size", std::uintmax_t{0}), j.value("created", "")};
}

}  // namespace

bool valid_name(const std::string& name) {
    if (name.empty() || name.size() > 128 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
        return false;
    }
    for (unsigned char c : name) {
        if (!std::isalnum(c) && c != '_' && c != '.' && c != '-') {
            return false;
        }
    }
    return true;
}

std::string sha256_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error("cannot read " + file.string());
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    std::vector<char> buf(1 << 16);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    static const char* kHex = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned i = 0; i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 15];
    }
    return out;
}

ImageStore::ImageStore(fs::path root) : images_(std::move(root) / "images") {}

fs::path ImageStore::dir(const std::string& name) const {
    if (!valid_name(name)) {
        throw Error("invalid image name \"" + name +
                    "\": use letters, digits, '_', '.' and '-', starting with a letter or digit");
    }
    return images_ / name;
}

fs::path ImageStore::rootfs(const std::string& name) const {
    return dir(name) / "rootfs";
}

ImageInfo ImageStore::import(const std::string& name, const fs::path& file) {
    auto target = dir(name);
    auto tarball = fs::absolute(file);  // extraction runs in the rootfs directory
    if (fs::exists(target)) {
        throw Error("image \"" + name + "\" already exists (remove it first: sdrun image rm " +
                    name + ")");
    }
    std::error_code ec;
    if (!fs::is_regular_file(tarball, ec)) {
        throw Error("cannot import " + tarball.string() + ": not a file");
    }
    ImageInfo info{name, sha256_file(tarball), tarball.string(), fs::file_size(tarball),
                   now_rfc3339()};
    // Unpack beside the target and rename: a failed import leaves nothing under the name.
    fs::create_directories(images_);
    auto staging = images_ / (".import-" + name + "-" + std::to_string(getpid()));
    fs::remove_all(staging, ec);
    try {
        fs::create_directories(staging / "rootfs");
        {
            CwdGuard cwd(staging / "rootfs");
            extract_here(tarball);
        }
        std::ofstream(staging / kMetadata) << to_json(info).dump(2) << "\n";
        fs::rename(staging, target);
    } catch (...) {
        fs::remove_all(staging, ec);
        throw;
    }
    return info;
}

std::vector<ImageInfo> ImageStore::list() const {
    std::vector<ImageInfo> out;
    std::error_code ec;
    for (fs::directory_iterator it(images_, ec), end; !ec && it != end; it.increment(ec)) {
        if (fs::exists(it->path() / kMetadata)) {
            out.push_back(read_info(it->path() / kMetadata));
        }
    }
    std::sort(out.begin(), out.end(),
              [](const ImageInfo& a, const ImageInfo& b) { return a.name < b.name; });
    return out;
}

ImageInfo ImageStore::get(const std::string& name) const {
    auto file = dir(name) / kMetadata;
    if (!fs::exists(file)) {
        throw Error("no such image \"" + name + "\" (import one: sdrun image import " + name +
                    " FILE)");
    }
    return read_info(file);
}

void ImageStore::remove(const std::string& name) {
    get(name);
    fs::remove_all(dir(name));
}

}  // namespace sdrun
