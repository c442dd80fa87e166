#include "ipam/file_lock.hpp"

#include <cerrno>

#include <sys/file.h>

#include "netlib/error.hpp"

namespace ipam {

FileLock::FileLock(int fd) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno != EINTR) {
            throw netlib::Error(errno, "flock", "lock");
        }
    }
}

FileLock::~FileLock() {
    if (fd_ >= 0) {
        ::flock(fd_, LOCK_UN);
    }
}

}  // namespace ipam
