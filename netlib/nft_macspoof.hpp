#pragma once

// MAC spoof check for bridge ports (the bridge plugin's macspoofchk), over nftables: frames
// entering the bridge from a container's host-side veth must carry the container's MAC.
//
// Ruleset (`nft list table bridge sdnet_macspoof`), for one container:
//
// clang-format off
//   table bridge sdnet_macspoof {
//       set guarded {
//           type ifname
//           elements = { "veth1a2b3c4d" comment "sdnet net=n1 cid=c1 if=eth0" }
//       }
//       set allowed {
//           type ifname . ether_addr
//           elements = { "veth1a2b3c4d" . 02:42:0a:4d:00:02 comment "sdnet net=n1 cid=c1 if=eth0" }
//       }
//       chain prerouting {
//           type filter hook prerouting priority -300; policy accept;
//           iifname @guarded iifname . ether saddr != @allowed drop
//       }
//   }
// clang-format on
//
// Why this shape: like nft_masq.hpp, one static rule and owner-tagged elements, so ADD/DEL are
// two element changes in one transaction whatever the number of containers, and concurrent
// plugins need no lock (netlib/nft_owned.hpp). A port is guarded only while its "guarded"
// element exists, and both elements come and go in the same transaction, so a port is never
// guarded without its allowed MAC. Priority -300 runs before the bridge's own processing, as in
// the reference plugin (pkg/link/spoofcheck.go), which instead writes two chains and several
// rules per container.
//
// Acts in the network namespace of the NftSocket (or of the calling thread); throws
// netlib::Error (NftBatchError for a rejected transaction).

#include <compare>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "netlib/ip.hpp"
#include "netlib/nft.hpp"

namespace netlib {

struct MacspoofAttachment {
    std::string network;
    std::string container_id;
    std::string ifname;       // the container-side interface (CNI_IFNAME)
    std::string host_ifname;  // the host-side veth, a bridge port
    MacAddr mac;              // the container interface's MAC
};

struct MacspoofEntry {
    std::string network;
    std::string container_id;
    std::string ifname;
    std::string host_ifname;
    MacAddr mac;  // zero if the port is guarded without an allowed MAC (not created by sdnet)

    auto operator<=>(const MacspoofEntry&) const = default;
};

inline constexpr const char* kMacspoofTable = "sdnet_macspoof";

// Lets only `a.mac` in from `a.host_ifname`. Idempotent; a re-ADD with another MAC, or a stale
// guard of an earlier owner of the same host interface, is replaced. Throws InvalidInput for
// bad names or a zero/multicast MAC.
void macspoof_add(NftSocket& sock, const MacspoofAttachment& a);
void macspoof_add(const MacspoofAttachment& a);

// Removes the attachment's elements: by key when host_ifname and mac are given, else every
// element of the owner (network, container_id, ifname). Succeeds when nothing is there.
void macspoof_del(NftSocket& sock, const MacspoofAttachment& a);
void macspoof_del(const MacspoofAttachment& a);

[[nodiscard]] std::vector<MacspoofEntry> macspoof_list(NftSocket& sock,
                                                       std::optional<std::string> network = {});
[[nodiscard]] std::vector<MacspoofEntry> macspoof_list(std::optional<std::string> network = {});

// Removes the elements of `network` whose (container id, ifname) is not in `valid`.
void macspoof_gc(NftSocket& sock, const std::string& network,
                 const std::set<std::pair<std::string, std::string>>& valid);
void macspoof_gc(const std::string& network,
                 const std::set<std::pair<std::string, std::string>>& valid);

}  // namespace netlib
