#include "runtime/container/error.hpp"

#include <cstring>

namespace sdrun {

Error system_error(const std::string& message, int err) {
    return Error(message + ": " + std::strerror(err));
}

}  // namespace sdrun
