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

// Input netlib cannot act on: an address that does not parse, an interface name over 15 bytes,
// an empty network name, a multicast container address. The caller's mistake, not the kernel's:
// plugins report it as invalid configuration (code 7) where it comes from the configuration.
// what() is the parsers' "invalid IP address \"x\"" or "<op> <object>: <why>". A
// std::invalid_argument, as netlib's parsers always threw.
class InvalidInput : public std::invalid_argument {
public:
    explicit InvalidInput(const std::string& message) : std::invalid_argument(message) {}

    InvalidInput(std::string_view op, std::string_view object, std::string_view why);
};

// Throws Error(errno, op, object) when `rc` is -1.
void check_errno(long rc, std::string_view op, std::string_view object = {});

}  // namespace netlib
