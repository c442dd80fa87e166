#pragma once

// nftables objects as plain values: tables, chains, sets, set elements and rules with their
// expressions. Building them makes no syscalls; NftBatch (netlib/nft.hpp) turns them into
// netlink messages. Nothing here exposes a libnftnl or libmnl type.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "netlib/ip.hpp"

namespace netlib {

using NftBytes = std::vector<std::uint8_t>;

// The address family of a table (NFPROTO_*).
enum class NftFamily : std::uint8_t { Inet, Ip, Ip6, Arp, Bridge, Netdev };

std::string_view to_string(NftFamily family) noexcept;

struct NftTableRef {
    NftFamily family = NftFamily::Inet;
    std::string name;

    bool operator==(const NftTableRef&) const = default;
};

enum class NftHook : std::uint8_t { Prerouting, Input, Forward, Output, Postrouting, Ingress };
enum class NftChainType : std::uint8_t { Filter, Nat, Route };

// Well-known hook priorities (nft's "srcnat", "dstnat", ...).
inline constexpr int kNftPrioDstNat = -100;
inline constexpr int kNftPrioFilter = 0;
inline constexpr int kNftPrioSrcNat = 100;

struct NftBaseChain {
    NftChainType type = NftChainType::Filter;
    NftHook hook = NftHook::Prerouting;
    int priority = kNftPrioFilter;
    bool policy_accept = true;

    bool operator==(const NftBaseChain&) const = default;
};

// A regular chain when `base` is empty, else a base chain attached to a hook.
struct NftChain {
    NftTableRef table;
    std::string name;
    std::optional<NftBaseChain> base;

    bool operator==(const NftChain&) const = default;
};

// Key and data types of sets. The values are nft's datatype ids, so that `nft list` prints
// elements as addresses and names instead of raw bytes.
enum class NftType : std::uint32_t {
    Verdict = 1,
    Ipv4Addr = 7,
    Ipv6Addr = 8,
    EtherAddr = 9,
    InetProto = 12,
    InetService = 13,
    Mark = 19,
    Ifname = 41,
};

// Size in bytes of one value of `type` (before padding to 32-bit registers).
std::size_t nft_type_len(NftType type) noexcept;

// A named set, or a map when `data` is not empty: {Verdict} makes a verdict map ("vmap"),
// other types a value map. Several types make a concatenation ("ifname . ether_addr"), for keys
// and for map data (e.g. "ipv4_addr . inet_service" for DNAT targets).
struct NftSet {
    NftTableRef table;
    std::string name;
    std::vector<NftType> key;
    std::vector<NftType> data;
    bool interval = false;

    // Bytes of a key or value: one type's length, or the components each padded to 4 bytes.
    std::size_t key_len() const noexcept;
    std::size_t data_len() const noexcept;

    bool operator==(const NftSet&) const = default;
};

enum class NftVerdictKind : std::uint8_t { Accept, Drop, Continue, Return, Jump, Goto };

struct NftVerdict {
    NftVerdictKind kind = NftVerdictKind::Accept;
    std::string chain;  // for Jump and Goto

    static NftVerdict jump(std::string chain) { return {NftVerdictKind::Jump, std::move(chain)}; }

    bool operator==(const NftVerdict&) const = default;
};

// One element of a set or map. `comment` travels as NFTA_SET_ELEM_USERDATA in nft's comment
// format, so `nft list` shows it; sdnet uses it to record who owns the element.
// Ranges: a concatenation (pipapo) carries `key_end`; a single-field interval set takes the
// range as two elements, the start (with the data) and the first key after it, flagged
// `interval_end` (see nft_prefix_elems).
struct NftElem {
    NftBytes key;
    std::optional<NftBytes> key_end;    // concatenated ranges: closing key
    std::optional<NftVerdict> verdict;  // verdict maps
    std::optional<NftBytes> data;       // value maps
    std::string comment;
    bool interval_end = false;  // NFT_SET_ELEM_INTERVAL_END

    bool operator==(const NftElem&) const = default;
};

// Key encoders. Values are in network byte order, as the packet carries them.
NftBytes nft_key(const IpAddr& addr);
NftBytes nft_key(const MacAddr& mac);
NftBytes nft_key_port(std::uint16_t port);
NftBytes nft_key_proto(std::uint8_t proto);
// IFNAMSIZ bytes, zero padded; throws InvalidInput naming `op` for "" or names over 15 bytes.
NftBytes nft_key_ifname(std::string_view ifname, std::string_view op = "nft interface key");
// A concatenation: every part padded to a multiple of 4 bytes, as the kernel's registers are.
NftBytes nft_concat(std::initializer_list<NftBytes> parts);

// The elements of an interval set for `net`: start (carrying `verdict`) and end, unless the
// prefix runs to the last address, which needs no end.
std::vector<NftElem> nft_prefix_elems(const IpNet& net, std::optional<NftVerdict> verdict = {});

// Renders a key of `set` for messages: "10.0.0.2", "veth1 . 02:00:00:00:00:01".
std::string nft_format_key(const NftSet& set, std::span<const std::uint8_t> key);

// Registers: Verdict, the four 16-byte registers, or 32-bit registers via nft_reg32().
enum class NftReg : std::uint32_t { Verdict = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4 };

constexpr NftReg nft_reg32(unsigned index) noexcept {
    return static_cast<NftReg>(8 + index);
}

enum class NftAddrField : std::uint8_t { Src, Dst };

enum class NftPayloadBase : std::uint8_t { LinkLayer, Network, Transport };
enum class NftMetaKey : std::uint8_t { Nfproto, L4proto, Iifname, Oifname, Iif, Oif, Mark };
enum class NftCmpOp : std::uint8_t { Eq, Neq, Lt, Lte, Gt, Gte };

struct NftMetaExpr {
    NftMetaKey key;
    NftReg dreg;
};

struct NftPayloadExpr {
    NftPayloadBase base;
    std::uint32_t offset;
    std::uint32_t len;
    NftReg dreg;
};

struct NftCmpExpr {
    NftReg sreg;
    NftCmpOp op;
    NftBytes data;
};

// reg = (reg & mask) ^ xor_bits; both as long as the register content.
struct NftBitwiseExpr {
    NftReg reg;
    NftBytes mask;
    NftBytes xor_bits;
};

// Set membership (dreg empty) or map lookup (dreg = Verdict makes a verdict map, "vmap").
struct NftLookupExpr {
    std::string set;
    NftReg sreg;
    bool invert = false;
    std::optional<NftReg> dreg;
};

struct NftImmediateExpr {
    NftReg dreg;
    NftBytes data;
};

struct NftVerdictExpr {
    NftVerdict verdict;
};

struct NftMasqExpr {};

struct NftCounterExpr {};

// A conntrack key of the packet's connection ("ct state", "ct status") into `dreg`: 4 bytes in
// host byte order, the kernel's IP_CT_* / IPS_* bits.
enum class NftCtKey : std::uint8_t { State, Status };

struct NftCtExpr {
    NftCtKey key;
    NftReg dreg;
};

// A FIB lookup of the packet's source or destination address ("fib daddr type"): the route
// type (RTN_LOCAL, RTN_UNICAST, ...) as 4 bytes in host byte order into `dreg`.
struct NftFibExpr {
    NftAddrField field;
    NftReg dreg;
};

// DNAT/SNAT to the address (and port) held in registers.
struct NftNatExpr {
    bool dnat = true;
    Family family = Family::V4;
    NftReg addr;
    std::optional<NftReg> port;
};

using NftExpr = std::variant<NftMetaExpr, NftPayloadExpr, NftCmpExpr, NftBitwiseExpr, NftLookupExpr,
                             NftImmediateExpr, NftVerdictExpr, NftMasqExpr, NftCounterExpr,
                             NftNatExpr, NftCtExpr, NftFibExpr>;

// A rule under construction: a chain, a list of expressions and an optional comment. The
// helpers append the expressions nft would generate for the matching nft syntax, noted on each.
class NftRule {
public:
    NftRule(NftTableRef table, std::string chain)
        : table_(std::move(table)), chain_(std::move(chain)) {}

    NftRule& add(NftExpr expr);
    // Stored as rule userdata in nft's comment format.
    NftRule& comment(std::string text);

    // "meta nfproto ipv4": needed before L3 payload in inet/bridge tables; load_addr puts it at
    // the front of the rule once per rule, and `nft list` shows it implicitly.
    NftRule& match_nfproto(Family family);
    // "ip saddr" / "ip6 daddr" loaded into `reg`, with the nfproto guard.
    NftRule& load_addr(Family family, NftAddrField field, NftReg reg);
    // "ip daddr 10.0.0.0/8" (op Eq) or "ip daddr != 10.0.0.0/8" (op Neq); uses R1.
    NftRule& match_prefix(NftAddrField field, const IpNet& net, NftCmpOp op);
    // "meta iifname" etc. into `reg`.
    NftRule& load_meta(NftMetaKey key, NftReg reg);
    // "ether saddr" into `reg` (link-layer payload, bridge/netdev families).
    NftRule& load_ether_addr(NftAddrField field, NftReg reg);
    // "@set" lookup of `reg`; invert for "!= @set".
    NftRule& lookup(std::string_view set, NftReg reg, bool invert = false);
    // "vmap @set" on `reg`.
    NftRule& vmap(std::string_view set, NftReg reg);
    // "map @set" on `sreg`, the value into `dreg`; no match ends the rule.
    NftRule& map(std::string_view set, NftReg sreg, NftReg dreg);
    // "meta iifname eth0" (op Eq) or "meta iifname != eth0"; `key` is Iifname or Oifname. Uses R1.
    NftRule& match_ifname(NftMetaKey key, std::string_view ifname, NftCmpOp op);
    // "fib daddr type local": the destination is an address of this host. Uses R1.
    NftRule& match_fib_daddr_local();
    // "ct status dnat" for bits = IPS_DST_NAT: any of `bits` is set. Uses R1.
    NftRule& match_ct_status(std::uint32_t bits);
    NftRule& masquerade();
    NftRule& verdict(NftVerdict verdict);

    const NftTableRef& table() const noexcept { return table_; }

    const std::string& chain() const noexcept { return chain_; }

    const std::vector<NftExpr>& exprs() const noexcept { return exprs_; }

    const std::string& comment() const noexcept { return comment_; }

private:
    NftTableRef table_;
    std::string chain_;
    std::vector<NftExpr> exprs_;
    std::string comment_;
    std::optional<Family> nfproto_;  // the family already matched by match_nfproto
};

}  // namespace netlib
