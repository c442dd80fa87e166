#pragma once

// Connection tracking entries over ctnetlink (NETLINK_NETFILTER, libmnl), in the network
// namespace of the calling thread.
//
// The portmap plugin uses it to drop stale UDP flows after publishing a port: a UDP "connection"
// created before the DNAT existed (e.g. to the host itself, answered with ICMP port
// unreachable) would otherwise keep sending the client's datagrams around the new mapping
// until it times out.

#include <cstddef>
#include <cstdint>
#include <set>

#include "netlib/ip.hpp"

namespace netlib {

// Deletes the entries of `family` and IP protocol `l4proto` (17 for UDP) whose original
// direction's destination port is in `ports`. The kernel filters the dump by protocol
// (CTA_FILTER); an entry that vanished meanwhile is not an error. A dump walks the kernel's
// whole hash table (all namespaces' buckets: milliseconds with the default 262,144), so it is
// skipped when this namespace has no entries at all. Returns how many were deleted; throws
// Error if ctnetlink is unavailable or refuses.
std::size_t conntrack_delete_by_dport(Family family, std::uint8_t l4proto,
                                      const std::set<std::uint16_t>& ports);

}  // namespace netlib
