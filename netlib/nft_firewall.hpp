#pragma once

// Forwarding rules for container networks (the firewall plugin), over nftables.
//
// Ruleset with container 10.77.0.2 + fd00:77::2 (network n1, ingressPolicy isolated on bridge
// br1, host port veth1a2b3c4d) and 10.78.0.2 (network n2, same-bridge on br2):
//
// clang-format off
//   table inet sdnet_firewall {
//       set ctr4 {
//           type ipv4_addr
//           elements = { 10.77.0.2 comment "sdnet net=n1 cid=c1 if=eth0",
//                        10.78.0.2 comment "sdnet net=n2 cid=c2 if=eth0" }
//       }
//       set ctr6 {
//           type ipv6_addr
//           elements = { fd00:77::2 comment "sdnet net=n1 cid=c1 if=eth0" }
//       }
//       set isolated {
//           type ifname
//           elements = { "br1" comment "sdnet net=n1 bridge=br1",
//                        "br2" comment "sdnet net=n2 bridge=br2" }
//       }
//       set same {
//           type ifname . ifname
//           elements = { "br2" . "br2" comment "sdnet net=n2 bridge=br2" }
//       }
//       chain admin {
//       }
//       chain forward {
//           type filter hook forward priority filter; policy accept;
//           iifname @isolated oifname @isolated iifname . oifname != @same drop
//           jump admin
//           ip daddr @ctr4 ct state established,related accept
//           ip saddr @ctr4 accept
//           ip6 daddr @ctr6 ct state established,related accept
//           ip6 saddr @ctr6 accept
//       }
//   }
//   table bridge sdnet_firewall {
//       set isolated_ports {
//           type ifname
//           elements = { "veth1a2b3c4d" comment "sdnet net=n1 cid=c1 if=eth0" }
//       }
//       chain forward {
//           type filter hook forward priority filter; policy accept;
//           iifname @isolated_ports oifname @isolated_ports drop
//       }
//   }
// clang-format on
//
// What the policies mean (as the reference plugin's iptables CNI-ISOLATION-STAGE-1/2 chains,
// which mirror Docker's DOCKER-ISOLATION-STAGE-1/2):
// - open: no isolation.
// - same-bridge: traffic routed from one isolated bridge to another isolated bridge is dropped;
//   traffic within a bridge, to and from the host and to the outside still flows.
// - isolated: as same-bridge, and containers on the same bridge cannot reach each other either
//   (Docker's enable_icc=false). The reference only drops same-bridge traffic that is routed
//   (`-i br -o br`), which misses container-to-container frames the bridge switches unless
//   br_netfilter is loaded; here the bridge-family table drops them between the isolated
//   containers' ports. (`meta ibrname` would key that by bridge, but it needs the nft_meta_bridge
//   module, which is not available everywhere; ports are per container anyway, so exact.)
//
// Ownership: container addresses and isolated ports are owner-tagged elements (netlib/
// nft_owned.hpp), so ADD and DEL are element changes in one transaction whatever the number of
// containers, and DEL/GC remove exactly their own. Isolation is a property of a bridge, shared
// by its containers: its elements are "shared" (created if missing, never removed by DEL, as the
// reference never removes its per-bridge rules, since DEL cannot know whether other containers
// still use the bridge). They carry the network that created them, and GC removes those of its
// network whose bridge no longer exists.
//
// nftables semantics to know: an `accept` ends only the base chain it is in. Every base chain on
// the forward hook still sees the packet, and a drop in any of them is final. So the accept
// rules here cannot override a drop policy of another table's forward chain (firewalld's,
// iptables-nft's `filter FORWARD`); they only end this table's evaluation. The isolation drops
// are final wherever they happen. Users add their own rules to chain `admin` (the counterpart of
// the reference's CNI-ADMIN chain): it runs after the isolation drops and before the accepts, so
// a drop there is final and an accept there skips the rest of this table.
//
// All functions act in the network namespace of the NftSocket and throw netlib::Error
// (NftBatchError for a rejected transaction).

#include <compare>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "netlib/ip.hpp"
#include "netlib/nft.hpp"

namespace netlib {

class RouteSocket;

enum class IngressPolicy : std::uint8_t { Open, SameBridge, Isolated };

struct FirewallAttachment {
    std::string network;
    std::string container_id;
    std::string ifname;
    std::vector<IpAddr> addresses;  // the container's addresses (any interface of the result)
    IngressPolicy policy = IngressPolicy::Open;
    std::string bridge;     // the host bridge; needed for SameBridge and Isolated
    std::string host_port;  // the container's bridge port (host end of its veth); for Isolated
};

// One owner-tagged element: an address, or an isolated port (then `address` is empty).
struct FirewallEntry {
    std::string network;
    std::string container_id;
    std::string ifname;
    std::optional<IpAddr> address;
    std::string host_port;

    auto operator<=>(const FirewallEntry&) const = default;
};

inline constexpr const char* kFirewallTable = "sdnet_firewall";
inline constexpr const char* kFirewallAdminChain = "admin";

// Accepts forwarded traffic from the attachment's addresses and related/established traffic to
// them, and applies its ingress policy. Idempotent; creates whatever part of the tables is
// missing in the same transaction. Throws InvalidInput for empty owner fields, a policy other
// than Open without a bridge, Isolated without a host port, or a non-unicast address.
void firewall_add(NftSocket& sock, const FirewallAttachment& a);

// Removes the attachment's elements: by key when addresses or a host port are given, else by
// listing the owned sets and matching the owner. Shared bridge elements stay (see above).
// Succeeds when nothing (not even the tables) is there.
void firewall_del(NftSocket& sock, const FirewallAttachment& a);

// What firewall_add() would have created and is missing now, as readable phrases ("address
// 10.0.0.2", "bridge br1 in set isolated"); empty when everything is there. One lookup per
// element, no listing.
[[nodiscard]] std::vector<std::string> firewall_missing(NftSocket& sock,
                                                        const FirewallAttachment& a);

// Every owner-tagged element, optionally only those of one network.
[[nodiscard]] std::vector<FirewallEntry> firewall_list(NftSocket& sock,
                                                       std::optional<std::string> network = {});

// Removes the elements of `network` whose (container id, ifname) is not in `valid`, and the
// shared elements `network` created for bridges that no longer exist in `links`' namespace.
void firewall_gc(NftSocket& sock, RouteSocket& links, const std::string& network,
                 const std::set<std::pair<std::string, std::string>>& valid);

}  // namespace netlib
