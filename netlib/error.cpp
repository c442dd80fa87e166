#include "netlib/error.hpp"

#include <cerrno>
#include <cstring>

namespace netlib {
namespace {

std::string format(int err, std::string_view op, std::string_view object, std::string_view detail) {
    std::string msg{op};
    if (!object.empty()) {
        msg += ' ';
        msg += object;
    }
    msg += ": ";
    msg += std::strerror(err);
    if (!detail.empty()) {
        msg += " (";
        msg += detail;
        msg += ')';
    }
    return msg;
}

}  // namespace

Error::Error(int err, std::string_view op, std::string_view object, std::string_view detail)
    : std::runtime_error(format(err, op, object, detail)), code_(err) {}

InvalidInput::InvalidInput(std::string_view op, std::string_view object, std::string_view why)
    : std::invalid_argument(std::string{op} + (object.empty() ? "" : " ") + std::string{object} +
                            ": " + std::string{why}) {}

void check_errno(long rc, std::string_view op, std::string_view object) {
    if (rc == -1) {
        throw Error(errno, op, object);
    }
}

}  // namespace netlib
