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
// direction's destination port is in `ports`; an entry that vanished meanwhile is not an error.
// Skipped when this namespace has no entries at all; otherwise one dump of the family's entries
// (it walks the kernel's global hash table: milliseconds with the default 262,144 buckets),
// filtered here, and one delete per match. Only uapi ctnetlink: the kernel's own filters by
// port need CTA_FILTER flag values that are not part of the uapi. Throws Error if ctnetlink is
// unavailable or refuses.
void conntrack_delete_by_dport(Family family, std::uint8_t l4proto,
                               const std::set<std::uint16_t>& ports);

}  // namespace netlib
