#pragma once

#include <vector>

#include "netlib/ip.hpp"

namespace netlib {

class RouteSocket;

// Static forwarding entries of a VXLAN device (its own FDB, `bridge fdb ... self`) and permanent
// neighbour entries, in the network namespace of `sock`. Errors are netlib::Error naming the
// operation and the entry ("RTM_NEWNEIGH fdb 00:00:00:00:00:00 dst 10.0.0.2 dev #4: ...").

// A remote of a VXLAN device: frames for `mac` are sent in UDP to `dst`. The all-zero MAC is the
// default destination (unknown unicast, broadcast, multicast); several all-zero entries replicate
// each such frame to every `dst` (head-end replication).
struct FdbEntry {
    MacAddr mac;
    IpAddr dst;

    auto operator<=>(const FdbEntry&) const = default;
};

// RTM_NEWNEIGH AF_BRIDGE NTF_SELF NUD_PERMANENT with NLM_F_APPEND, as `bridge fdb append`: one
// more remote for the MAC. Appending a remote the MAC already has changes nothing.
void append_fdb(RouteSocket& sock, int ifindex, const FdbEntry& entry);
// With NLM_F_REPLACE, as `bridge fdb replace`: the MAC's remote becomes `dst`.
void replace_fdb(RouteSocket& sock, int ifindex, const FdbEntry& entry);
// RTM_DELNEIGH of that remote only; false when the MAC has no entry at all (for a MAC that has
// other remotes but not this one, the kernel reports success and removes nothing).
bool remove_fdb(RouteSocket& sock, int ifindex, const FdbEntry& entry);
// The device's own entries with a remote (NTF_SELF, NDA_DST), static and learnt.
[[nodiscard]] std::vector<FdbEntry> list_fdb(RouteSocket& sock, int ifindex);

// A neighbour (ARP / NDP) entry: `ip` is reached at `mac`.
struct NeighEntry {
    IpAddr ip;
    MacAddr mac;

    auto operator<=>(const NeighEntry&) const = default;
};

// RTM_NEWNEIGH NUD_PERMANENT with NLM_F_REPLACE: creates or overwrites the entry.
void replace_neigh(RouteSocket& sock, int ifindex, const NeighEntry& entry);
// RTM_DELNEIGH; false when there was none.
bool remove_neigh(RouteSocket& sock, int ifindex, const IpAddr& ip);
// The NUD_PERMANENT entries of the device, both families.
[[nodiscard]] std::vector<NeighEntry> list_permanent_neighs(RouteSocket& sock, int ifindex);

}  // namespace netlib
