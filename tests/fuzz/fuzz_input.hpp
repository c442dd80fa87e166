#pragma once

// What every fuzz target shares: the input as text or JSON, and the rule that a parser of outside
// input fails only with its documented error type. Any other exception escapes to libFuzzer,
// which reports it as a finding (a plugin would print it as code 999, "internal error").
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace sdnet::fuzz {

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// nullopt for bytes that are not JSON: those never reach our parsers (the caller's json::parse
// rejects them first, with its own error).
inline std::optional<nlohmann::json> json_of(std::string_view bytes) {
    auto j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        return std::nullopt;
    }
    return j;
}

// Runs `parse`, accepting `Expected` (the parser's documented failure) and nothing else.
template <typename Expected, typename Fn>
bool fails_cleanly_or_succeeds(Fn&& parse) {
    try {
        parse();
        return true;
    } catch (const Expected&) {
        return false;
    }
}

}  // namespace sdnet::fuzz
