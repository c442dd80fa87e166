#include "runtime/container/user.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>
#include <sstream>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "netlib/fd.hpp"
#include "runtime/container/error.hpp"

namespace sdrun {
namespace {

// The file at `path` below `rootfs`, every component (symlinks too) resolved as if `rootfs`
// were "/". Empty when it does not exist.
std::string read_in_root(const std::filesystem::path& rootfs, const char* path) {
    netlib::Fd root(open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) {
        throw system_error("cannot open the image's root " + rootfs.string(), errno);
    }
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    netlib::Fd fd(static_cast<int>(syscall(SYS_openat2, root.get(), path, &how, sizeof how)));
    if (!fd) {
        if (errno == ENOENT) {
            return "";
        }
        throw system_error(std::string("cannot read ") + path + " in the image", errno);
    }
    std::string out;
    char buf[4096];
    for (ssize_t n = 0; (n = read(fd.get(), buf, sizeof buf)) > 0;) {
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::optional<std::uint32_t> number(const std::string& text) {
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return n;
}

std::vector<std::string> split(const std::string& line, char sep) {
    std::vector<std::string> out;
    std::string field;
    std::istringstream in(line);
    while (std::getline(in, field, sep)) {
        out.push_back(field);
    }
    if (!line.empty() && line.back() == sep) {
        out.emplace_back();
    }
    return out;
}

// The entries of a passwd or group file with at least `fields` fields whose numeric field 2
// parses.
std::vector<std::vector<std::string>> entries(const std::string& text, std::size_t fields) {
    std::vector<std::vector<std::string>> out;
    std::istringstream in(text);
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

ExecUser resolve_user(const std::filesystem::path& rootfs, const std::string& user) {
    auto colon = user.find(':');
    auto name = user.substr(0, colon);
    if (name.empty()) {
        throw Error("invalid user \"" + user + "\"");
    }
    auto passwd = entries(read_in_root(rootfs, "/etc/passwd"), 7);
    ExecUser out;
    std::string matched;
    for (const auto& e : passwd) {
        if (e[0] == name || (number(name) && number(e[2]) == number(name))) {
            out = {*number(e[2]), *number(e[3]), {}, e[5].empty() ? "/" : e[5]};
            matched = e[0];
            break;
        }
    }
    if (matched.empty()) {
        auto uid = number(name);
        if (!uid || *uid == static_cast<std::uint32_t>(-1)) {
            throw Error("unable to find user " + name +
                        ": no matching entries in the image's /etc/passwd");
        }
        out.uid = *uid;
    }
    auto groups = entries(read_in_root(rootfs, "/etc/group"), 4);
    if (colon != std::string::npos) {
        out.gid = resolve_group(groups, user.substr(colon + 1));
        return out;
    }
    for (const auto& e : groups) {
        auto members = split(e[3], ',');
        auto gid = *number(e[2]);
        if (!matched.empty() && gid != out.gid &&
            std::find(members.begin(), members.end(), matched) != members.end()) {
            out.additional_gids.push_back(gid);
        }
    }
    return out;
}

}  // namespace sdrun
