#pragma once

#include <cstdint>
#include <string>

namespace sdrun {

// docker's size syntax: a number with an optional unit b, k, m or g (case-insensitive, an
// optional trailing "b" after k/m/g: "64m", "64MB", "1g"), powers of 1024. Throws sdrun::Error
// naming `what` for anything else ("12qb", "", "-1", overflow).
std::int64_t parse_size(const std::string& text, const std::string& what);

// A positive decimal integer; throws sdrun::Error naming `what` otherwise.
std::int64_t parse_count(const std::string& text, const std::string& what);

}  // namespace sdrun
