#include "runtime/container/image_user.hpp"

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

// The line of a passwd or group file whose field `key` (0: name, 2: id) is `value`: its fields.
// Both kinds have at least 4 fields: name, password, uid, gid / name, password, gid, members.
std::optional<std::vector<std::string>> entry(const std::string& file, std::size_t key,
                                              const std::string& value) {
    constexpr std::size_t kMinFields = 4;
    std::istringstream in(file);
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> fields;
        std::istringstream parts(line);
        for (std::string f; std::getline(parts, f, ':');) {
            fields.push_back(f);
        }
        if (!line.empty() && line.back() == ':') {
            fields.emplace_back();  // getline drops it: "staff:x:50:" has four fields
        }
        if (fields.size() >= kMinFields && fields[key] == value) {
            return fields;
        }
    }
    return std::nullopt;
}

std::uint32_t id_field(const std::vector<std::string>& fields, std::size_t i,
                       const std::string& file) {
    auto n = number(fields[i]);
    if (!n) {
        throw Error("cannot look up users: bad id \"" + fields[i] + "\" in /etc/" + file +
                    " of the image");
    }
    return *n;
}

}  // namespace

UserIds resolve_user(const std::string& user, const std::vector<fs::path>& layers) {
    auto colon = user.find(':');
    auto name = user.substr(0, colon);
    auto uid = number(name);
    // A number with a group needs no file: an image whose /etc is odd still runs as -u 0:0.
    bool need_passwd = !uid || colon == std::string::npos;
    auto passwd = need_passwd ? etc_file(layers, "passwd") : std::nullopt;
    auto line = passwd ? entry(*passwd, uid ? 2 : 0, name) : std::nullopt;
    if (!uid && !line) {
        throw Error("unable to find user \"" + name +
                    "\": no matching entry in the image's /etc/passwd");
    }
    UserIds ids;
    ids.uid = uid ? *uid : id_field(*line, 2, "passwd");
    ids.gid = line ? id_field(*line, 3, "passwd") : 0;
    if (colon == std::string::npos) {
        return ids;
    }
    auto group = user.substr(colon + 1);
    if (auto gid = number(group)) {
        ids.gid = *gid;
        return ids;
    }
    auto groups = etc_file(layers, "group");
    auto group_line = groups && !group.empty() ? entry(*groups, 0, group) : std::nullopt;
    if (!group_line) {
        throw Error("unable to find group \"" + group +
                    "\": no matching entry in the image's /etc/group");
    }
    ids.gid = id_field(*group_line, 2, "group");
    return ids;
}

}  // namespace sdrun
