#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace netlib {

// A kernel or C-library call failed. what() reads "<op> <object>: <strerror>[ (<ext-ack>)]",
// e.g. "RTM_NEWLINK veth1a2b: File exists", so callers can surface it unchanged.
class Error : public std::runtime_error {
public:
    Error(int err, std::string_view op, std::string_view object, std::string_view detail = {});

    // The errno value (positive), e.g. EEXIST.
    int code() const noexcept { return code_; }

private:
    int code_;
};

// Throws Error(errno, op, object) when `rc` is -1.
void check_errno(long rc, std::string_view op, std::string_view object = {});

}  // namespace netlib
