#include "netlib/fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "netlib/error.hpp"

namespace netlib {

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        reset();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

Fd Fd::open(const std::string& path, int flags, unsigned mode) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    check_errno(fd, "open", path);
    return Fd{fd};
}

void Fd::reset() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

}  // namespace netlib
