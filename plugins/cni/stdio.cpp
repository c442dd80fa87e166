#include "plugins/cni/stdio.hpp"

#include <cerrno>

#include <unistd.h>

namespace cni {

std::optional<std::string> read_all(int fd) {
    std::string data;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            data.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0) {
            return data;
        } else if (errno != EINTR) {
            return std::nullopt;
        }
    }
}

bool write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

void warn(std::string_view line) {
    std::string text{line};
    text += '\n';
    (void)write_all(STDERR_FILENO, text);
}

}  // namespace cni
