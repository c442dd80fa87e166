#pragma once

// Published container ports (the portmap plugin), over nftables.
//
// Ruleset (`nft list table inet sdnet_portmap`) with container 10.77.0.2/24 publishing tcp 8080
// on every local address and udp 5353 on 127.0.0.1 (IPv6 twins *6 left out):
//
// clang-format off
//   table inet sdnet_portmap {
//       map hostports4 {      # mappings for one host address
//           type inet_proto . ipv4_addr . inet_service : ipv4_addr . inet_service
//           elements = { udp . 127.0.0.1 . 5353 comment "sdnet net=n cid=c if=eth0" : 10.77.0.2 . 53 }
//       }
//       map anyports4 {       # mappings for every local address
//           type inet_proto . inet_service : ipv4_addr . inet_service
//           elements = { tcp . 8080 comment "sdnet net=n cid=c if=eth0" : 10.77.0.2 . 80 }
//       }
//       map guardhost4 { type inet_proto . ipv4_addr . inet_service : verdict }  # conditions
//       map guardany4 { type inet_proto . inet_service : verdict }
//       set hairpin4 {        # containers whose DNATed traffic is masqueraded from their subnet
//           type ipv4_addr    #   and from 127.0.0.0/8 (snat)
//           elements = { 10.77.0.2 comment "sdnet net=n cid=c if=eth0" }
//       }
//       set masqall4 { type ipv4_addr }   # containers whose DNATed traffic is all masqueraded
//       set hostaddrs4 { type ipv4_addr; elements = { 127.0.0.1 } }  # for conflict checks
//       map hairpin_nets4 {
//           type ipv4_addr : verdict; flags interval
//           elements = { 10.77.0.0/24 : jump hairpin4_10_77_0_0_24 }
//       }
//       chain dnat {
//           meta l4proto . ip daddr . th dport vmap @guardhost4
//           meta l4proto . th dport vmap @guardany4
//           dnat ip to meta l4proto . ip daddr . th dport map @hostports4
//           dnat ip to meta l4proto . th dport map @anyports4
//       }
//       chain prerouting { type nat hook prerouting priority dstnat; fib daddr type local jump dnat }
//       chain output { type nat hook output priority dstnat; fib daddr type local jump dnat }
//       chain hairpin4_10_77_0_0_24 {
//           ip saddr 10.77.0.0/24 masquerade
//           ip saddr 127.0.0.0/8 masquerade
//       }
//       chain postrouting {
//           type nat hook postrouting priority srcnat;
//           ct status dnat ip daddr @masqall4 masquerade
//           ct status dnat ip daddr @hairpin4 ip daddr vmap @hairpin_nets4
//       }
//   }
// clang-format on
//
// Why this shape:
// - A published port is ONE owner-tagged map element keyed by (protocol, host address, port), or
//   (protocol, port) for "every local address": ADD and DEL change elements in one transaction,
//   and a new connection costs two hash lookups whatever the number of mappings. Rules never
//   change per container (netlib/nft_owned.hpp), except for attachments with conditions.
// - Only traffic addressed to a local address is translated ("fib daddr type local"), from
//   outside (prerouting) and from the host itself (output, 127.0.0.1 included); transit traffic
//   is never touched. A specific address wins over "every local address".
// - Masquerading needs no packet mark: conntrack's DNAT status says which connections were
//   translated, so marks used by other software (kube-proxy) are left alone. Hairpin traffic
//   (source in the destination container's subnet: the container itself or a neighbour) and
//   traffic from 127.0.0.0/8 is masqueraded; per-subnet chains as in nft_masq.hpp.
// - Conditions (the plugin's conditionsV4/V6) put a guard element with the same key as the
//   mapping into guardhost/guardany, jumping to a chain of the attachment that returns when the
//   conditions hold and accepts (no translation) otherwise.
// - Conflicts are refused: a key held by another owner fails the ADD (PortConflict), and so
//   does a wildcard mapping against a specific one of the same protocol and port, checked with
//   per-key lookups before and after the transaction (the check after catches a concurrent ADD;
//   then at least one of them fails). For a wildcard, the specific keys to look up come from
//   hostaddrs4/6, every host address a specific mapping has used (shared elements, never
//   removed: a handful, whatever the number of containers). The same owner re-adding is a
//   no-op. A key the same container holds through another attachment (other network or
//   ifname) is not a conflict: that attachment keeps it, and the mapping is left out of this
//   one (podman hands a container's mappings to every network it joins).
//
// All functions act in the network namespace of the NftSocket and throw netlib::Error
// (NftBatchError for a rejected transaction).

#include <compare>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netlib/error.hpp"
#include "netlib/ip.hpp"
#include "netlib/nft.hpp"
#include "netlib/nft_owned.hpp"

namespace netlib {

enum class L4Proto : std::uint8_t { Tcp = 6, Udp = 17, Sctp = 132 };

std::string_view to_string(L4Proto proto) noexcept;

// Traffic to (proto, host address, host port) goes to (container address, container port).
// Without a host address: to every local address of the container address's family.
struct PortMapping {
    L4Proto proto = L4Proto::Tcp;
    std::optional<IpAddr> host_addr;
    std::uint16_t host_port = 0;
    IpAddr container_addr;
    std::uint16_t container_port = 0;

    Family family() const noexcept { return container_addr.family(); }

    // "tcp 0.0.0.0:8080", "udp [fd00::1]:53" (the host side, for messages).
    std::string host_to_string() const;

    auto operator<=>(const PortMapping&) const = default;
};

// One condition on the traffic to translate, a subset of nft match syntax: "ip saddr CIDR",
// "ip6 daddr != CIDR", "iifname eth0", ...
struct PortmapMatch {
    enum class Kind : std::uint8_t { Saddr, Daddr, Iifname };

    Kind kind = Kind::Saddr;
    bool negate = false;
    IpNet net;           // Saddr, Daddr
    std::string ifname;  // Iifname

    std::string to_string() const;

    auto operator<=>(const PortmapMatch&) const = default;
};

struct PortmapAttachment {
    NftOwner owner;
    std::vector<PortMapping> mappings;
    // Container addresses (with their prefix) for which hairpin and 127.0.0.0/8 traffic to
    // their published ports is masqueraded (the reference's snat).
    std::vector<IpNet> hairpin;
    // Container addresses for which all translated traffic is masqueraded (masqAll).
    std::vector<IpAddr> masq_all;
    // Conditions for the mappings of each family, all of which must hold; empty: none.
    std::vector<PortmapMatch> conditions4;
    std::vector<PortmapMatch> conditions6;
};

inline constexpr const char* kPortmapTable = "sdnet_portmap";

// The most ports one published range may hold: each port is one map element of one
// transaction. The portmap plugin and `sdnet attach -p` both refuse longer ranges, with this
// message.
inline constexpr int kPortmapMaxRange = 4096;

inline std::string portmap_range_too_long(int ports) {
    return "port range is too long: " + std::to_string(ports) + " ports, at most " +
           std::to_string(kPortmapMaxRange);
}

// A host port (or a wildcard/specific overlap) already published by another container.
class PortConflict : public Error {
public:
    // `comment`: that of the element holding the port; `where`: appended to the message
    // (" on every local address").
    PortConflict(const PortMapping& wanted, const std::string& comment, std::string_view where);

    const PortMapping& wanted() const noexcept { return wanted_; }

    // The attachment holding the port; nullopt for an element sdnet did not write.
    const std::optional<NftOwner>& holder() const noexcept { return holder_; }

    // For messages: "<network>/<container id>/<ifname>" of holder(), else the raw comment of
    // the element, or "(no owner tag)".
    const std::string& holder_name() const noexcept { return holder_name_; }

    // "host port tcp 0.0.0.0:8080 is already published by n/c1/eth0".
    const std::string& message() const noexcept { return message_; }

private:
    PortMapping wanted_;
    std::optional<NftOwner> holder_;
    std::string holder_name_;
    std::string message_;
};

struct PortmapAdded {
    // The mappings this attachment publishes: all of `a.mappings` except those whose host port
    // the same container already publishes through another attachment (that one keeps it).
    std::vector<PortMapping> published;
    // Those of `published` that were not in place before (new, or with another target).
    std::vector<PortMapping> fresh;
};

// Publishes the mappings in one transaction (plus conflict lookups; one more attempt per host
// port the same container holds elsewhere). Idempotent for the same owner; throws
// PortConflict, leaving nothing added, when another container holds a port.
PortmapAdded portmap_add(NftSocket& sock, const PortmapAttachment& a);

// Removes the attachment's elements: by key when `a.mappings` (and `a.hairpin`/`a.masq_all`
// for the masquerade sets) are given, else by listing and matching the owner. Elements of other
// owners are never touched; guard chains left without users are deleted. Succeeds when
// nothing is there.
void portmap_del(NftSocket& sock, const PortmapAttachment& a);

// Removes the elements of `network` whose (container id, ifname) is not in `valid`; an empty
// ifname in `valid` keeps every ifname of that container (legacy id-only lists).
void portmap_gc(NftSocket& sock, const std::string& network,
                const std::set<std::pair<std::string, std::string>>& valid);

struct PortmapEntry {
    NftOwner owner;
    PortMapping mapping;
    bool guarded = false;  // has conditions

    auto operator<=>(const PortmapEntry&) const = default;
};

// Every published port, optionally only those of one network (a listing: for CHECK-less
// diagnostics and tests, not for the hot path).
[[nodiscard]] std::vector<PortmapEntry> portmap_list(NftSocket& sock,
                                                     std::optional<std::string> network = {});

// What is missing or different for the attachment, one line each; empty when everything is in
// place (per-key lookups). A port the same container publishes through another attachment is
// in place, as portmap_add left it.
[[nodiscard]] std::vector<std::string> portmap_check(NftSocket& sock, const PortmapAttachment& a);

}  // namespace netlib
