#pragma once

#include <string>
#include <utility>

namespace netlib {

// A move-only file descriptor, closed on destruction. Factories open with O_CLOEXEC and throw
// netlib::Error on failure.
class Fd {
public:
    Fd() noexcept = default;

    explicit Fd(int fd) noexcept : fd_(fd) {}

    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    ~Fd() { reset(); }

    static Fd open(const std::string& path, int flags, unsigned mode = 0);

    int get() const noexcept { return fd_; }

    bool valid() const noexcept { return fd_ >= 0; }

    explicit operator bool() const noexcept { return valid(); }

    // Gives up ownership, e.g. to hand the descriptor to a child process.
    int release() noexcept { return std::exchange(fd_, -1); }

    void reset() noexcept;

private:
    int fd_ = -1;
};

}  // namespace netlib
