#include "ipam/crash_point.hpp"

namespace ipam::crash_point {

namespace detail {
Hook hook = nullptr;
}

void set_hook(Hook hook) noexcept {
    detail::hook = hook;
}

}  // namespace ipam::crash_point
