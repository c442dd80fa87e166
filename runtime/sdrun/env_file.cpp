#include "runtime/sdrun/env_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>

#include "runtime/container/error.hpp"

namespace sdrun::cli {

std::vector<std::string> read_env_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) {
        throw system_error("cannot read env file " + file.string(), errno);
    }
    std::vector<std::string> out;
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        line.erase(0, line.find_first_not_of(" \t\r\v\f"));
        if (line.empty() || line[0] == '#') {
            continue;
        }
        auto eq = line.find('=');
        auto key = line.substr(0, eq);
        if (key.empty() || key.find_first_of(" \t") != std::string::npos) {
            throw Error("env file " + file.string() + " line " + std::to_string(number) +
                        ": invalid variable name \"" + key + "\"");
        }
        if (eq != std::string::npos) {
            out.push_back(line);
        } else if (const char* value = std::getenv(key.c_str())) {  // NOLINT(concurrency-mt-unsafe)
            out.push_back(key + "=" + value);
        }
    }
    return out;
}

}  // namespace sdrun::cli
