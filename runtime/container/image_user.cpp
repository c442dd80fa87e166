#include "runtime/container/image_user.hpp"

#include <algorithm>
#include <optional>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "netlib/fd.hpp"
#include "runtime/container/error.hpp"

namespace sdrun {
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxId = 0xfffffffe;  // (uid_t)-1 means "unchanged" to setresuid

bool is_whiteout(const struct stat& st) {
    return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

bool is_opaque(const fs::path& dir) {
    char value = 0;
    return getxattr(dir.c_str(), "trusted.overlay.opaque", &value, 1) == 1 && value == 'y';
}

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// /etc/<name> as the container will see it: the topmost layer that has it, unless a whiteout
// or an opaque /etc above hides it. A symlink on the way is refused: here, on the host, it
// would lead to the host's files.
std::optional<std::string> etc_file(const std::vector<fs::path>& layers, const std::string& name) {
    for (const auto& layer : layers) {
        struct stat st = {};
        if (lstat((layer / "etc").c_str(), &st) != 0) {
            continue;
        }
        if (is_whiteout(st) || !S_ISDIR(st.st_mode)) {
            if (S_ISLNK(st.st_mode)) {
                throw Error("cannot look up users: /etc is a symlink in the image");
            }
            return std::nullopt;
        }
        auto file = layer / "etc" / name;
        if (lstat(file.c_str(), &st) == 0) {
            if (S_ISLNK(st.st_mode)) {
                throw Error("cannot look up users: /etc/" + name + " is a symlink in the image");
            }
            if (!S_ISREG(st.st_mode)) {
                return std::nullopt;  // a whiteout: deleted in this layer
            }
            netlib::Fd fd(open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            if (!fd) {
                throw system_error("cannot read /etc/" + name + " of the image", errno);
            }
            return read_all(fd.get());
        }
        if (is_opaque(layer / "etc")) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

std::optional<std::uint32_t> number(const std::string& text) {
    if (text.empty() || text.size() > 10 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    auto n = std::stoull(text);
    return n <= kMaxId ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(n)) : std::nullopt;
}

std::vector<std::string> split(const std::string& line, char sep) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string f; std::getline(in, f, sep);) {
        out.push_back(f);
    }
    if (!line.empty() && line.back() == sep) {
        out.emplace_back();  // getline drops it: "staff:x:50:" has four fields
    }
    return out;
}

// The entries of a passwd (7 fields) or group (4 fields) file whose id, field 2, is a number.
std::vector<std::vector<std::string>> entries(const std::optional<std::string>& text,
                                              std::size_t fields) {
    std::vector<std::vector<std::string>> out;
    std::istringstream in(text.value_or(""));
    for (std::string line; std::getline(in, line);) {
        auto f = split(line, ':');
        if (f.size() >= fields && number(f[2])) {
            out.push_back(std::move(f));
        }
    }
    return out;
}

gid_t resolve_group(const std::vector<std::vector<std::string>>& groups, const std::string& g) {
    for (const auto& e : groups) {
        if (e[0] == g) {
            return *number(e[2]);
        }
    }
    if (auto n = number(g)) {
        return *n;
    }
    throw Error("unable to find group " + g + ": no matching entries in the image's /etc/group");
}

}  // namespace

ExecUser resolve_user(const std::string& user, const std::vector<fs::path>& layers) {
    auto colon = user.find(':');
    auto name = user.substr(0, colon);
    if (name.empty()) {
        throw Error("invalid user \"" + user + "\"");
    }
    // A number with a group needs no file (an image whose /etc is odd still runs as -u 0:0): its
    // passwd entry, when one can be read, only gives HOME.
    std::optional<std::string> passwd_text;
    if (number(name) && colon != std::string::npos) {
        try {
            passwd_text = etc_file(layers, "passwd");
        } catch (const Error&) {
        }
    } else {
        passwd_text = etc_file(layers, "passwd");
    }
    auto passwd = entries(passwd_text, 7);
    ExecUser out;
    std::string matched;
    for (const auto& e : passwd) {
        if (e[0] == name || (number(name) && number(e[2]) == number(name))) {
            out = {*number(e[2]), number(e[3]).value_or(0), {}, e[5].empty() ? "/" : e[5]};
            matched = e[0];
            break;
        }
    }
    if (matched.empty()) {
        auto uid = number(name);
        if (!uid) {
            throw Error("unable to find user " + name +
                        ": no matching entries in the image's /etc/passwd");
        }
        out.uid = *uid;
    }
    if (colon != std::string::npos) {
        auto group = user.substr(colon + 1);
        out.gid = number(group) ? *number(group)
                                : resolve_group(entries(etc_file(layers, "group"), 4), group);
        return out;
    }
    if (!matched.empty()) {
        for (const auto& e : entries(etc_file(layers, "group"), 4)) {
            auto members = split(e[3], ',');
            auto gid = *number(e[2]);
            if (gid != out.gid &&
                std::find(members.begin(), members.end(), matched) != members.end()) {
                out.additional_gids.push_back(gid);
            }
        }
    }
    return out;
}

}  // namespace sdrun
