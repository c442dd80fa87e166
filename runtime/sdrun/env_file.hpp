#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sdrun::cli {

// docker's --env-file: one KEY=VALUE per line, leading whitespace ignored, blank lines and lines
// starting with '#' skipped, the value taken as written (no quotes removed); a KEY alone takes
// the caller's value and is left out when the caller has none. Returns "KEY=VALUE" entries.
// Throws sdrun::Error for an unreadable file or a key with whitespace, naming file and line.
std::vector<std::string> read_env_file(const std::filesystem::path& file);

}  // namespace sdrun::cli
