#include "runtime/container/units.hpp"

#include <cctype>
#include <charconv>
#include <limits>

#include "runtime/container/error.hpp"

namespace sdrun {
namespace {

// The multiplier of a unit suffix ("", "b", "k", "kb", ...), or 0 if it is not one.
std::int64_t unit_factor(std::string unit) {
    for (auto& c : unit) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (unit.size() == 2 && unit[1] == 'b' && unit[0] != 'b') {
        unit.pop_back();
    }
    if (unit.empty() || unit == "b") {
        return 1;
    }
    if (unit == "k") {
        return std::int64_t{1} << 10;
    }
    if (unit == "m") {
        return std::int64_t{1} << 20;
    }
    if (unit == "g") {
        return std::int64_t{1} << 30;
    }
    return 0;
}

}  // namespace

std::int64_t parse_size(const std::string& text, const std::string& what) {
    std::int64_t number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    auto bad = [&] {
        return Error("invalid " + what + " \"" + text +
                     "\": expected a positive number with an optional unit b, k, m or g");
    };
    if (ec != std::errc() || end == text.data() || number <= 0) {
        throw bad();
    }
    auto factor = unit_factor(std::string(end, text.data() + text.size()));
    if (factor == 0 || number > std::numeric_limits<std::int64_t>::max() / factor) {
        throw bad();
    }
    return number * factor;
}

std::int64_t parse_count(const std::string& text, const std::string& what) {
    std::int64_t number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || end != text.data() + text.size() || number <= 0) {
        throw Error("invalid " + what + " \"" + text + "\": expected a positive integer");
    }
    return number;
}

}  // namespace sdrun
