#pragma once

#include <chrono>
#include <cstdint>

namespace netlib {

class RouteSocket;

// Waits until bridge port `ifindex` is enabled: its state leaves "disabled" once the kernel's
// link watch has applied the port's carrier (which can lag behind the link's creation). Without
// STP the port then forwards; under STP it listens (it forwards after twice the bridge's forward
// delay) or blocks (it may never forward), so waiting longer would not help an ADD. A port whose
// link has no carrier (its veth peer down) stays disabled: callers should not wait for it.
//
// The state is read once through `sock`; only if the port is still disabled are the link
// notifications of the namespace of `sock` read (subscribed to before the read, so no change
// slips in between): no polling. The calling thread must be in that namespace. Returns the last
// state seen (BR_STATE_*), BR_STATE_DISABLED if `timeout` passed first. Throws Error(EINVAL) when
// the link is not a bridge port.
[[nodiscard]] std::uint8_t wait_bridge_port_enabled(RouteSocket& sock, int ifindex,
                                                    std::chrono::milliseconds timeout);

}  // namespace netlib
