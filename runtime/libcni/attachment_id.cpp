#include "runtime/libcni/attachment_id.hpp"

#include <filesystem>

#include <sys/vfs.h>

#include "plugins/cni/sha512.hpp"
#include "runtime/libcni/error.hpp"

namespace libcni {
namespace {

// From <linux/magic.h>; spelt out so this file needs no kernel headers.
constexpr unsigned long kNsfsMagic = 0x6e736673;

}  // namespace

std::string netns_path(std::string_view arg, std::string_view named_dir) {
    if (arg.empty() || arg == "." || arg == "..") {
        throw ArgumentError("invalid network namespace \"" + std::string{arg} +
                            "\" (expected a name under " + std::string{named_dir} + " or a path)");
    }
    if (arg.find('/') == std::string_view::npos) {
        return std::string{named_dir} + "/" + std::string{arg};
    }
    std::error_code ec;
    auto abs = std::filesystem::absolute(std::filesystem::path{arg}, ec);
    if (ec) {
        throw ArgumentError("cannot make \"" + std::string{arg} + "\" absolute: " + ec.message());
    }
    auto normal = abs.lexically_normal().string();
    if (normal.size() > 1 && normal.ends_with('/')) {
        normal.pop_back();
    }
    return normal;
}

std::string derive_container_id(std::string_view netns_path) {
    return "cnitool-" + cni::sha512_hex(netns_path, 10);
}

bool netns_alive(const std::string& path) {
    struct statfs st {};

    return !path.empty() && ::statfs(path.c_str(), &st) == 0 &&
           static_cast<unsigned long>(st.f_type) == kNsfsMagic;
}

}  // namespace libcni
