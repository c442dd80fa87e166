#pragma once

#include <stdexcept>
#include <string>

namespace cni {

// Error codes from the CNI spec (SPEC.md, "Error"). 999 is the reference library's catch-all.
enum class Code : int {
    IncompatibleVersion = 1,
    UnsupportedField = 2,
    UnknownContainer = 3,
    InvalidEnv = 4,
    Io = 5,
    Decode = 6,
    InvalidConfig = 7,
    TryAgain = 11,
    NotAvailable = 50,
    NotAvailableDegraded = 51,
    Internal = 999,
};

// An error a plugin reports to the runtime as {"code", "msg", "details"}.
class Error : public std::runtime_error {
public:
    Error(Code code, const std::string& msg, std::string details = {})
        : std::runtime_error(msg), code_(code), details_(std::move(details)) {}

    Code code() const noexcept { return code_; }

    const std::string& details() const noexcept { return details_; }

private:
    Code code_;
    std::string details_;
};

// Shorthand for the most common case: a configuration value that is wrong.
inline Error config_error(const std::string& msg, std::string details = {}) {
    return Error(Code::InvalidConfig, msg, std::move(details));
}

}  // namespace cni
