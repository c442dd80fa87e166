#include "netlib/sysctl.hpp"

#include <cerrno>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "netlib/error.hpp"
#include "netlib/fd.hpp"

namespace netlib {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = s.find(sep, start);
        parts.push_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
        if (end == std::string_view::npos) {
            return parts;
        }
        start = end + 1;
    }
}

// "net.ipv4.conf.eth0.100.arp_notify": components 3..n-2 of a per-interface key form the
// interface name, which may itself contain dots (VLAN devices).
std::string dotted_to_path(std::string_view key) {
    std::vector<std::string_view> parts = split(key, '.');
    bool per_if = parts.size() > 5 && (parts[2] == "conf" || parts[2] == "neigh");
    std::string path;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) {
            bool inside_ifname = per_if && i > 3 && i < parts.size() - 1;
            path += inside_ifname ? '.' : '/';
        }
        path += parts[i];
    }
    return path;
}

void check_path(std::string_view key, const std::string& path) {
    if (path.rfind("net/", 0) != 0) {
        throw InvalidInput("sysctl \"" + std::string{key} + "\" is not under net/");
    }
    for (std::string_view part : split(path, '/')) {
        if (part.empty() || part == "." || part == "..") {
            throw InvalidInput("invalid sysctl key \"" + std::string{key} + "\"");
        }
    }
}

std::string full_path(std::string_view key) {
    return "/proc/sys/" + sysctl_path(key);
}

}  // namespace

std::string sysctl_path(std::string_view key) {
    std::size_t first_sep = key.find_first_of("./");
    // As sysctl(8): if the first separator is a slash the key is a path and dots are literal.
    std::string path = first_sep != std::string_view::npos && key[first_sep] == '.'
                           ? dotted_to_path(key)
                           : std::string{key};
    check_path(key, path);
    return path;
}

void write_sysctl(std::string_view key, std::string_view value) {
    std::string path = full_path(key);
    Fd fd = Fd::open(path, O_WRONLY | O_TRUNC);
    ssize_t n = ::write(fd.get(), value.data(), value.size());
    if (n < 0) {
        throw Error(errno, "write sysctl", key);
    }
    if (static_cast<std::size_t>(n) != value.size()) {
        throw Error(EIO, "write sysctl", key, "short write");
    }
}

std::optional<std::string> try_read_sysctl(std::string_view key) {
    std::string path = full_path(key);
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw == -1) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        throw Error(errno, "read sysctl", key);
    }
    Fd fd{raw};
    std::string value;
    char buf[256];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(errno, "read sysctl", key);
        }
        if (n == 0) {
            break;
        }
        value.append(buf, static_cast<std::size_t>(n));
    }
    while (!value.empty() && value.back() == '\n') {
        value.pop_back();
    }
    return value;
}

std::string read_sysctl(std::string_view key) {
    if (auto v = try_read_sysctl(key)) {
        return *v;
    }
    throw Error(ENOENT, "read sysctl", key);
}

}  // namespace netlib
