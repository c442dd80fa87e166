#pragma once

#include <array>
#include <string_view>

// Named points inside the store's changes, for crash tests: a test sets a hook that stops the
// process at one of them and then kills it, so every kill lands exactly there, whatever the
// machine's load (a random delay mostly hit process start-up on a busy machine). Without a hook
// (every plugin process: nothing sets one) a point is one load and one untaken branch.
namespace ipam::crash_point {

// Every point, in the order an ADD followed by a DEL reaches them.
inline constexpr std::array<std::string_view, 7> kAll = {
    "stamp-invalidated",      // the session's first change: the stamp no longer vouches
    "snapshot-written",       // rebuild: new snapshot, stale by-id files not yet removed
    "reservation-linked",     // ADD: the address file exists, its by-id entry not yet
    "index-written",          // ADD: by-id entry written, last_reserved_ip not yet
    "last-reserved-written",  // ADD: all written, the stamp not yet renewed
    "reservation-unlinked",   // DEL: address file gone, its by-id entry not yet
    "index-cleared",          // DEL: by-id entry gone, the stamp not yet renewed
};

using Hook = void (*)(std::string_view point);

// For tests: `hook` is called at every point until reset with nullptr.
void set_hook(Hook hook) noexcept;

namespace detail {
extern Hook hook;
}

inline void reached(std::string_view point) {
    if (detail::hook != nullptr) [[unlikely]] {
        detail::hook(point);
    }
}

}  // namespace ipam::crash_point
