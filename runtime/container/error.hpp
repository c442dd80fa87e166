#pragma once

#include <stdexcept>
#include <string>

// Errors of the container library. It never prints: the caller decides how to report them.
namespace sdrun {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `message` + ": " + strerror(err).
Error system_error(const std::string& message, int err);

// The container's command could not be executed (errno of the last execve: ENOENT when it is
// not in the image, EACCES when it is not executable). Nothing of the container is left.
class ExecError : public Error {
public:
    ExecError(const std::string& message, int err) : Error(message), errno_(err) {}

    int error_number() const { return errno_; }

private:
    int errno_;
};

}  // namespace sdrun
