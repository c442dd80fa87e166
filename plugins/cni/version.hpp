#pragma once

#include <compare>
#include <span>
#include <string>
#include <string_view>

namespace cni {

// A CNI spec version, "1.0.0".
struct Version {
    int major = 0;
    int minor = 1;
    int patch = 0;

    // Throws cni::Error(Decode) for text that is not "X.Y.Z".
    static Version parse(std::string_view text);
    std::string to_string() const;

    auto operator<=>(const Version&) const = default;
};

inline constexpr Version kV030{0, 3, 0};
inline constexpr Version kV040{0, 4, 0};
inline constexpr Version kV100{1, 0, 0};
inline constexpr Version kV110{1, 1, 0};
inline constexpr Version kCurrentVersion = kV110;

// Every version our plugins accept and can print results in, oldest first.
std::span<const Version> supported_versions();
bool is_supported(const Version& v);

}  // namespace cni
