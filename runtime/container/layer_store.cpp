#include "runtime/container/layer_store.hpp"

#include <unistd.h>

#include "runtime/container/archive.hpp"
#include "runtime/container/digest.hpp"
#include "runtime/container/error.hpp"

namespace sdrun {
namespace fs = std::filesystem;

LayerStore::LayerStore(const fs::path& root) : sha256_(root / "layers" / "sha256") {}

fs::path LayerStore::dir(const std::string& digest) const {
    return sha256_ / digest_hex(digest, "layer");
}

fs::path LayerStore::diff(const std::string& digest) const {
    return dir(digest) / "diff";
}

bool LayerStore::contains(const std::string& digest) const {
    return fs::is_directory(diff(digest));
}

bool LayerStore::add(const std::string& digest, const fs::path& blob) {
    if (contains(digest)) {
        return false;
    }
    // Unpacked beside its final place and renamed: a layer directory is complete or absent.
    auto target = dir(digest);
    auto staging =
        sha256_ / (".unpack-" + target.filename().string() + "-" + std::to_string(getpid()));
    std::error_code ec;
    fs::remove_all(staging, ec);
    try {
        fs::create_directories(staging / "diff");
        unpack(blob, staging / "diff", Unpack::Layer);
        fs::rename(staging, target, ec);
        if (ec && contains(digest)) {
            fs::remove_all(staging, ec);  // another import unpacked it meanwhile
            return false;
        }
        if (ec) {
            throw system_error("cannot store layer " + digest, ec.value());
        }
    } catch (...) {
        fs::remove_all(staging, ec);
        throw;
    }
    return true;
}

void LayerStore::remove(const std::string& digest) {
    fs::remove_all(dir(digest));
}

void LayerStore::remove_all_but(const std::set<std::string>& used) {
    for (const auto& digest : list()) {
        if (used.count(digest) == 0) {
            remove(digest);
        }
    }
}

std::set<std::string> LayerStore::list() const {
    std::set<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(sha256_, ec), end; !ec && it != end; it.increment(ec)) {
        auto digest = "sha256:" + it->path().filename().string();
        if (valid_digest(digest)) {
            out.insert(digest);
        }
    }
    return out;
}

}  // namespace sdrun
