#include "netlib/nft_rule.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "netlib/error.hpp"

namespace netlib {
namespace {

constexpr std::size_t kIfNameSize = 16;  // IFNAMSIZ

std::size_t padded(std::size_t len) noexcept {
    return (len + 3) / 4 * 4;
}

// The mask of a prefix: `prefix` leading one bits over `len` bytes.
NftBytes prefix_mask(int prefix, std::size_t len) {
    NftBytes mask(len, 0);
    for (std::size_t i = 0; i < len; ++i) {
        int bits = std::clamp(prefix - static_cast<int>(i * 8), 0, 8);
        mask[i] = static_cast<std::uint8_t>(0xff00U >> bits);
    }
    return mask;
}

// A 32-bit value as the kernel keeps meta, ct and fib results: host byte order.
NftBytes host_bytes(std::uint32_t value) {
    NftBytes out(sizeof value);
    std::memcpy(out.data(), &value, sizeof value);
    return out;
}

std::string hex(std::span<const std::uint8_t> bytes) {
    std::string out = "0x";
    char buf[3];
    for (auto b : bytes) {
        std::snprintf(buf, sizeof buf, "%02x", b);
        out += buf;
    }
    return out;
}

std::string format_part(NftType type, std::span<const std::uint8_t> part) {
    switch (type) {
        case NftType::Ipv4Addr:
        case NftType::Ipv6Addr:
            return IpAddr::from_bytes(part).to_string();
        case NftType::EtherAddr: {
            std::array<std::uint8_t, 6> mac{};
            std::copy_n(part.begin(), mac.size(), mac.begin());
            return MacAddr(mac).to_string();
        }
        case NftType::Ifname: {
            auto end = std::find(part.begin(), part.end(), std::uint8_t{0});
            return std::string(part.begin(), end);
        }
        default:
            return hex(part);
    }
}

}  // namespace

std::string_view to_string(NftFamily family) noexcept {
    switch (family) {
        case NftFamily::Inet:
            return "inet";
        case NftFamily::Ip:
            return "ip";
        case NftFamily::Ip6:
            return "ip6";
        case NftFamily::Arp:
            return "arp";
        case NftFamily::Bridge:
            return "bridge";
        case NftFamily::Netdev:
            return "netdev";
    }
    return "?";
}

std::size_t nft_type_len(NftType type) noexcept {
    switch (type) {
        case NftType::Verdict:
            return 0;
        case NftType::Ipv4Addr:
        case NftType::Mark:
            return 4;
        case NftType::Ipv6Addr:
        case NftType::Ifname:
            return 16;
        case NftType::EtherAddr:
            return 6;
        case NftType::InetProto:
            return 1;
        case NftType::InetService:
            return 2;
    }
    return 0;
}

namespace {

// The length of a value of these types: unpadded when single, padded per component when a
// concatenation (the kernel's registers are 32 bits wide).
std::size_t types_len(const std::vector<NftType>& types) noexcept {
    if (types.size() == 1) {
        return nft_type_len(types.front());
    }
    std::size_t len = 0;
    for (auto type : types) {
        len += padded(nft_type_len(type));
    }
    return len;
}

}  // namespace

std::size_t NftSet::key_len() const noexcept {
    return types_len(key);
}

std::size_t NftSet::data_len() const noexcept {
    return types_len(data);
}

NftBytes nft_key(const IpAddr& addr) {
    auto bytes = addr.bytes();
    return {bytes.begin(), bytes.end()};
}

NftBytes nft_key(const MacAddr& mac) {
    return {mac.bytes().begin(), mac.bytes().end()};
}

NftBytes nft_key_port(std::uint16_t port) {
    return {static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port & 0xff)};
}

NftBytes nft_key_proto(std::uint8_t proto) {
    return {proto};
}

NftBytes nft_key_ifname(std::string_view ifname, std::string_view op) {
    if (ifname.empty() || ifname.size() >= kIfNameSize) {
        throw InvalidInput(op, ifname, "interface name must be 1 to 15 bytes");
    }
    NftBytes key(kIfNameSize, 0);
    std::copy(ifname.begin(), ifname.end(), key.begin());
    return key;
}

NftBytes nft_concat(std::initializer_list<NftBytes> parts) {
    NftBytes out;
    for (const auto& part : parts) {
        out.insert(out.end(), part.begin(), part.end());
        out.resize(padded(out.size()), 0);
    }
    return out;
}

std::vector<NftElem> nft_prefix_elems(const IpNet& net, std::optional<NftVerdict> verdict) {
    auto network = net.network();
    std::vector<NftElem> out;
    out.push_back({nft_key(network.first()), {}, std::move(verdict), {}, {}, false});
    auto last = network.last();
    if (last.next() > last) {  // next() wraps at the top of the address space
        out.push_back({nft_key(last.next()), {}, {}, {}, {}, true});
    }
    return out;
}

std::string nft_format_key(const NftSet& set, std::span<const std::uint8_t> key) {
    std::string out;
    std::size_t pos = 0;
    for (auto type : set.key) {
        std::size_t len = nft_type_len(type);
        if (len == 0 || pos + len > key.size()) {
            return hex(key);
        }
        if (!out.empty()) {
            out += " . ";
        }
        out += format_part(type, key.subspan(pos, len));
        pos += padded(len);
    }
    return out.empty() ? hex(key) : out;
}

NftRule& NftRule::add(NftExpr expr) {
    exprs_.push_back(std::move(expr));
    return *this;
}

NftRule& NftRule::comment(std::string text) {
    comment_ = std::move(text);
    return *this;
}

NftRule& NftRule::match_nfproto(Family family) {
    // NFPROTO_IPV4 = 2, NFPROTO_IPV6 = 10; meta nfproto is one byte.
    std::uint8_t proto = family == Family::V4 ? 2 : 10;
    add(NftMetaExpr{NftMetaKey::Nfproto, NftReg::R1});
    add(NftCmpExpr{NftReg::R1, NftCmpOp::Eq, {proto}});
    nfproto_ = family;
    return *this;
}

NftRule& NftRule::load_addr(Family family, NftAddrField field, NftReg reg) {
    if (nfproto_ != family) {
        // At the front: the guard uses R1, which may already hold an earlier load (a
        // concatenation being assembled); a match can move to the front without changing the
        // rule's meaning.
        std::uint8_t proto = family == Family::V4 ? 2 : 10;
        exprs_.insert(exprs_.begin(), {NftMetaExpr{NftMetaKey::Nfproto, NftReg::R1},
                                       NftCmpExpr{NftReg::R1, NftCmpOp::Eq, {proto}}});
        nfproto_ = family;
    }
    bool v4 = family == Family::V4;
    std::uint32_t offset =
        v4 ? (field == NftAddrField::Src ? 12 : 16) : (field == NftAddrField::Src ? 8 : 24);
    return add(NftPayloadExpr{NftPayloadBase::Network, offset, v4 ? 4U : 16U, reg});
}

NftRule& NftRule::match_prefix(NftAddrField field, const IpNet& net, NftCmpOp op) {
    load_addr(net.family(), field, NftReg::R1);
    auto network = nft_key(net.network().addr());
    if (net.prefix() < net.addr().bit_len()) {
        add(NftBitwiseExpr{NftReg::R1, prefix_mask(net.prefix(), network.size()),
                           NftBytes(network.size(), 0)});
    }
    return add(NftCmpExpr{NftReg::R1, op, std::move(network)});
}

NftRule& NftRule::load_meta(NftMetaKey key, NftReg reg) {
    return add(NftMetaExpr{key, reg});
}

NftRule& NftRule::load_ether_addr(NftAddrField field, NftReg reg) {
    std::uint32_t offset = field == NftAddrField::Src ? 6 : 0;
    return add(NftPayloadExpr{NftPayloadBase::LinkLayer, offset, 6, reg});
}

NftRule& NftRule::lookup(std::string_view set, NftReg reg, bool invert) {
    return add(NftLookupExpr{std::string(set), reg, invert, std::nullopt});
}

NftRule& NftRule::vmap(std::string_view set, NftReg reg) {
    return add(NftLookupExpr{std::string(set), reg, false, NftReg::Verdict});
}

NftRule& NftRule::map(std::string_view set, NftReg sreg, NftReg dreg) {
    return add(NftLookupExpr{std::string(set), sreg, false, dreg});
}

NftRule& NftRule::match_ifname(NftMetaKey key, std::string_view ifname, NftCmpOp op) {
    load_meta(key, NftReg::R1);
    return add(NftCmpExpr{NftReg::R1, op, nft_key_ifname(ifname)});
}

NftRule& NftRule::match_fib_daddr_local() {
    constexpr std::uint32_t kRtnLocal = 2;  // RTN_LOCAL
    add(NftFibExpr{NftAddrField::Dst, NftReg::R1});
    return add(NftCmpExpr{NftReg::R1, NftCmpOp::Eq, host_bytes(kRtnLocal)});
}

NftRule& NftRule::match_ct_status(std::uint32_t bits) {
    add(NftCtExpr{NftCtKey::Status, NftReg::R1});
    add(NftBitwiseExpr{NftReg::R1, host_bytes(bits), host_bytes(0)});
    return add(NftCmpExpr{NftReg::R1, NftCmpOp::Neq, host_bytes(0)});
}

NftRule& NftRule::masquerade() {
    return add(NftMasqExpr{});
}

NftRule& NftRule::verdict(NftVerdict verdict) {
    return add(NftVerdictExpr{std::move(verdict)});
}

}  // namespace netlib
