#include "runtime/container/image_store.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <set>

#include <fcntl.h>
#include <unistd.h>

#include "ipam/file_lock.hpp"
#include "netlib/fd.hpp"
#include "runtime/container/archive.hpp"
#include "runtime/container/digest.hpp"
#include "runtime/container/error.hpp"
#include "runtime/container/image_source.hpp"

namespace sdrun {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kMetadata = "image.json";
constexpr const char* kUseMarker = "image";  // in a container's directory: the image's name

std::string now_rfc3339() {
    auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

ImageInfo read_info(const fs::path& file) {
    std::ifstream in(file);
    auto j = json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        throw Error("corrupt image metadata " + file.string());
    }
    try {
        return ImageInfo::from_json(j);
    } catch (const json::exception& e) {
        throw Error("corrupt image metadata " + file.string() + ": " + e.what());
    }
}

// The store's lock, held for the object's lifetime (the kernel drops it if sdrun dies).
class StoreLock {
public:
    explicit StoreLock(const fs::path& root) : fd_(open_lock_file(root)), lock_(fd_.get()) {}

private:
    static netlib::Fd open_lock_file(const fs::path& root) {
        fs::create_directories(root);
        return netlib::Fd::open((root / "images.lock").string(), O_RDWR | O_CREAT, 0600);
    }

    netlib::Fd fd_;
    ipam::FileLock lock_;
};

// A directory removed with everything in it on scope exit.
class Scratch {
public:
    explicit Scratch(fs::path dir) : dir_(std::move(dir)) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
        fs::create_directories(dir_);
    }

    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

    ~Scratch() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    const fs::path& path() const { return dir_; }

private:
    fs::path dir_;
};

SourceImage read_source(const fs::path& file, const fs::path& scratch,
                        const std::optional<Platform>& platform) {
    auto kind = detect_archive(file);
    if (kind == ArchiveKind::Rootfs) {
        auto digest = sha256_file(file);
        auto diff_id = uncompressed_sha256(file);
        return {"rootfs",
                digest,
                digest,
                json(),
                platform.value_or(Platform{}),
                {{diff_id, file, true}}};
    }
    PlatformChoice choice{platform.value_or(Platform::host()), platform.has_value()};
    auto dir = file;
    if (!fs::is_directory(file)) {
        dir = scratch / "archive";
        fs::create_directory(dir);
        unpack(file, dir, Unpack::Plain);
    }
    return kind == ArchiveKind::OciLayout ? read_oci_layout(dir, choice)
                                          : read_docker_archive(dir, choice);
}

void verify_uncompressed(const LayerBlob& layer, const std::string& what) {
    auto actual = uncompressed_sha256(layer.file);
    if (actual != layer.diff_id) {
        throw Error(what + " does not match its diff id in the image config: expected " +
                    layer.diff_id + ", uncompressed content is " + actual + "; nothing imported");
    }
}

ImageInfo info_of(const std::string& name, const fs::path& file, const SourceImage& source) {
    ImageInfo info;
    info.name = name;
    info.id = source.id;
    info.digest = source.digest;
    info.format = source.format;
    info.source = file.string();
    info.size = fs::is_directory(file) ? 0 : fs::file_size(file);
    info.imported = now_rfc3339();
    info.created = info.imported;
    if (source.config.is_object()) {
        auto created = source.config.find("created");
        if (created != source.config.end() && created->is_string()) {
            info.created = created->get<std::string>();
        }
        info.config = ImageConfig::parse(source.config.value("config", json()));
    }
    info.platform = source.platform;
    for (const auto& l : source.layers) {
        info.layers.push_back(l.diff_id);
    }
    return info;
}

}  // namespace

json ImageInfo::to_json() const {
    json j = {{"name", name},       {"id", id},
              {"digest", digest},   {"format", format},
              {"source", source},   {"size", size},
              {"created", created}, {"imported", imported},
              {"os", platform.os},  {"architecture", platform.architecture},
              {"layers", layers},   {"config", config.to_json()}};
    if (!platform.variant.empty()) {
        j["variant"] = platform.variant;
    }
    return j;
}

ImageInfo ImageInfo::from_json(const json& j) {
    ImageInfo i;
    i.name = j.value("name", "");
    i.id = j.value("id", "");
    i.digest = j.value("digest", "");
    i.format = j.value("format", "");
    i.source = j.value("source", "");
    i.size = j.value("size", std::uintmax_t{0});
    i.created = j.value("created", "");
    i.imported = j.value("imported", "");
    i.platform = Platform::of(j);
    i.layers = j.value("layers", std::vector<std::string>{});
    i.config = ImageConfig::parse(j.value("config", json()));
    return i;
}

bool valid_name(const std::string& name) {
    if (name.empty() || name.size() > 128 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 || c == '_' || c == '.' || c == '-';
    });
}

ImageStore::ImageStore(fs::path root)
    : root_(std::move(root)), images_(root_ / "images"), layers_(root_) {}

fs::path ImageStore::dir(const std::string& name) const {
    if (!valid_name(name)) {
        throw Error("invalid image name \"" + name +
                    "\": use letters, digits, '_', '.' and '-', starting with a letter or digit");
    }
    return images_ / name;
}

Imported ImageStore::import(const std::string& name, const fs::path& file,
                            const std::optional<Platform>& platform) {
    auto target = dir(name);
    auto source = fs::absolute(file);
    if (fs::exists(target)) {
        throw Error("image \"" + name + "\" already exists (remove it first: sdrun image rm " +
                    name + ")");
    }
    std::error_code ec;
    if (!fs::is_regular_file(source, ec) && !fs::is_directory(source, ec)) {
        throw Error("cannot import " + source.string() + ": not a file");
    }
    // Everything is staged beside the target and renamed: a failed import leaves nothing.
    fs::create_directories(images_);
    Scratch staging(images_ / (".import-" + name + "-" + std::to_string(getpid())));
    auto image = read_source(source, staging.path(), platform);
    auto info = info_of(name, source, image);
    // A compressed blob matched its digest; its content must match the diff id it is stored as.
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        const auto& layer = image.layers[i];
        if (!layer.diff_id_checked && !layers_.contains(layer.diff_id)) {
            verify_uncompressed(layer, "layer " + std::to_string(i + 1));
        }
    }
    StoreLock lock(root_);
    if (fs::exists(target)) {  // imported meanwhile
        throw Error("image \"" + name + "\" already exists");
    }
    std::vector<std::string> added;
    try {
        for (const auto& layer : image.layers) {
            if (layers_.add(layer.diff_id, layer.file)) {
                added.push_back(layer.diff_id);
            }
        }
        auto meta = staging.path() / "meta";
        fs::create_directory(meta);
        std::ofstream(meta / kMetadata) << info.to_json().dump(2) << "\n";
        fs::rename(meta, target);
    } catch (...) {
        for (const auto& digest : added) {
            layers_.remove(digest);
        }
        throw;
    }
    return {info, added};
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

bool ImageStore::contains(const std::string& name) const {
    return fs::exists(dir(name) / kMetadata);
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
    StoreLock lock(root_);
    get(name);
    auto users_now = users(name);
    if (!users_now.empty()) {
        throw Error(
            "image \"" + name + "\" is in use by container " + users_now.front() +
            (users_now.size() > 1 ? " and " + std::to_string(users_now.size() - 1) + " more" : "") +
            "; remove the container first");
    }
    // Out of the list at once, then deleted: a half-deleted image is never listed.
    auto doomed = images_ / (".rm-" + name + "-" + std::to_string(getpid()));
    fs::rename(dir(name), doomed);
    fs::remove_all(doomed);
    remove_unused_layers();
}

void ImageStore::remove_unused_layers() {
    std::set<std::string> used;
    for (const auto& image : list()) {
        used.insert(image.layers.begin(), image.layers.end());
    }
    layers_.remove_all_but(used);
}

std::vector<fs::path> ImageStore::lower_dirs(const ImageInfo& image) const {
    if (image.layers.empty()) {
        throw Error("image \"" + image.name +
                    "\" has no layers (imported by an older sdrun? remove it and import it "
                    "again)");
    }
    std::vector<fs::path> out;
    for (auto it = image.layers.rbegin(); it != image.layers.rend(); ++it) {
        if (!layers_.contains(*it)) {
            throw Error("layer " + *it + " of image \"" + image.name + "\" is missing");
        }
        out.push_back(layers_.diff(*it));
    }
    return out;
}

void ImageStore::record_use(const fs::path& container_dir, const std::string& name) const {
    StoreLock lock(root_);
    if (!contains(name)) {
        throw Error("image \"" + name + "\" was removed while the container was being set up");
    }
    std::ofstream out(container_dir / kUseMarker);
    out << name << "\n";
    if (!out.flush()) {
        throw Error("cannot write " + (container_dir / kUseMarker).string());
    }
}

std::vector<std::string> ImageStore::users(const std::string& name) const {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(root_ / "containers", ec), end; !ec && it != end;
         it.increment(ec)) {
        std::ifstream in(it->path() / kUseMarker);
        std::string used;
        if (std::getline(in, used) && used == name) {
            out.push_back(it->path().filename().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace sdrun
