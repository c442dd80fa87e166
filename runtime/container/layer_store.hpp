#pragma once

#include <filesystem>
#include <set>
#include <string>

// Layers unpacked once and shared by every image that has them, named by the digest of the
// blob they came from (verified before unpacking): <root>/layers/sha256/<hex>/diff is the
// directory an overlay takes as one of its lower layers.
namespace sdrun {

class LayerStore {
public:
    explicit LayerStore(const std::filesystem::path& root);

    std::filesystem::path diff(const std::string& digest) const;
    bool contains(const std::string& digest) const;

    // Unpacks the layer tarball `blob` as `digest` unless the store has it already (then it is
    // not read at all). Returns whether it unpacked it. On failure nothing of it is left.
    bool add(const std::string& digest, const std::filesystem::path& blob);

    void remove(const std::string& digest);

    // Removes every layer not in `used`.
    void remove_all_but(const std::set<std::string>& used);

    std::set<std::string> list() const;

private:
    std::filesystem::path dir(const std::string& digest) const;

    std::filesystem::path sha256_;
};

}  // namespace sdrun
