#include "runtime/container/image_source.hpp"

#include <algorithm>
#include <fstream>

namespace sdrun::source {
namespace fs = std::filesystem;

nlohmann::json read_json(const fs::path& file, const std::string& what) {
    std::ifstream in(file);
    if (!in) {
        throw Error("cannot read " + what + " (" + file.filename().string() + ")");
    }
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) {
        throw Error(what + " (" + file.filename().string() + ") is not valid JSON");
    }
    return j;
}

fs::path confined(const fs::path& dir, const std::string& relative) {
    auto base = fs::canonical(dir);
    auto path = fs::weakly_canonical(base / relative);
    auto [end, unused] = std::mismatch(base.begin(), base.end(), path.begin(), path.end());
    if (fs::path(relative).is_absolute() || end != base.end()) {
        throw Error("refusing \"" + relative + "\": it points outside the archive");
    }
    return path;
}

Error no_platform(const PlatformChoice& choice, const std::vector<Platform>& offered) {
    std::string list;
    for (const auto& p : offered) {
        list += (list.empty() ? "" : ", ") + p.to_string();
    }
    return Error("no image for " +
                 (choice.by_user ? choice.wanted.to_string()
                                 : "this host's platform " + choice.wanted.to_string()) +
                 " (the file has " + (list.empty() ? "none" : list) + ")" +
                 (choice.by_user ? "" : "; pick one with --platform"));
}

}  // namespace sdrun::source
