#pragma once

#include <chrono>

namespace netlib {

// Blocks until the bridge port `ifindex` of the calling thread's network namespace forwards
// frames. The state is read once; only if the port is still learning/listening/disabled (the
// kernel's link watch applies carrier changes with a delay of up to a second) does this wait for
// the bridge's RTM_NEWLINK notification: no polling loop. Throws netlib::Error(ETIMEDOUT) after
// `timeout`, or when the link is not a bridge port.
void wait_bridge_port_forwarding(int ifindex,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace netlib
