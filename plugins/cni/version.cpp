#include "plugins/cni/version.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "plugins/cni/error.hpp"

namespace cni {
namespace {

constexpr std::array kSupported{
    Version{0, 1, 0}, Version{0, 2, 0}, Version{0, 3, 0}, Version{0, 3, 1}, kV040, kV100, kV110};

bool parse_part(std::string_view& text, int& out, bool last) {
    auto end = last ? text.size() : text.find('.');
    if (end == std::string_view::npos || end == 0) {
        return false;
    }
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, out);
    if (ec != std::errc{} || ptr != text.data() + end || out < 0) {
        return false;
    }
    text.remove_prefix(last ? end : end + 1);
    return true;
}

}  // namespace

Version Version::parse(std::string_view text) {
    Version v;
    std::string_view rest = text;
    if (!parse_part(rest, v.major, false) || !parse_part(rest, v.minor, false) ||
        !parse_part(rest, v.patch, true)) {
        throw Error(Code::Decode, "invalid version \"" + std::string{text} + "\"",
                    "expected MAJOR.MINOR.PATCH");
    }
    return v;
}

std::string Version::to_string() const {
    return std::to_string(major) + '.' + std::to_string(minor) + '.' + std::to_string(patch);
}

std::span<const Version> supported_versions() {
    return kSupported;
}

bool is_supported(const Version& v) {
    return std::find(kSupported.begin(), kSupported.end(), v) != kSupported.end();
}

}  // namespace cni
