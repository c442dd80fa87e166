#include "netlib/nft_masq.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>

#include "netlib/error.hpp"
#include "netlib/nft_owned.hpp"

namespace netlib {
namespace {

const NftTableRef& table() {
    static const NftTableRef kTable{NftFamily::Inet, kMasqTable};
    return kTable;
}

// Container addresses (plain sets, one owner-tagged element per address).
const NftSet& addr_set(Family family) {
    static const NftSet kV4{table(), "masq4", {NftType::Ipv4Addr}, {}, false};
    static const NftSet kV6{table(), "masq6", {NftType::Ipv6Addr}, {}, false};
    return family == Family::V4 ? kV4 : kV6;
}

// Subnet -> jump to the subnet's chain (interval verdict maps, one entry per subnet).
const NftSet& subnet_map(Family family) {
    static const NftSet kV4{table(), "subnets4", {NftType::Ipv4Addr}, {NftType::Verdict}, true};
    static const NftSet kV6{table(), "subnets6", {NftType::Ipv6Addr}, {NftType::Verdict}, true};
    return family == Family::V4 ? kV4 : kV6;
}

std::vector<NftSet> addr_sets() {
    return {addr_set(Family::V4), addr_set(Family::V6)};
}

NftChain base_chain() {
    return {table(), "postrouting",
            NftBaseChain{NftChainType::Nat, NftHook::Postrouting, kNftPrioSrcNat, true}};
}

// "ip daddr != <subnet> ip daddr != 224.0.0.0/4 masquerade" (ff00::/8 for IPv6).
NftChainSpec subnet_chain(const IpNet& subnet) {
    auto multicast = IpNet::parse(subnet.family() == Family::V4 ? "224.0.0.0/4" : "ff00::/8");
    NftChainSpec spec{{table(), masq_chain_name(subnet), std::nullopt}, {}};
    spec.rules.emplace_back(table(), spec.chain.name);
    spec.rules.back()
        .match_prefix(NftAddrField::Dst, subnet, NftCmpOp::Neq)
        .match_prefix(NftAddrField::Dst, multicast, NftCmpOp::Neq)
        .masquerade();
    return spec;
}

// "ip saddr @masq4 ip saddr vmap @subnets4" and the IPv6 twin.
NftChainSpec base_chain_spec() {
    NftChainSpec base{base_chain(), {}};
    for (auto family : {Family::V4, Family::V6}) {
        base.rules.emplace_back(table(), base.chain.name);
        base.rules.back()
            .load_addr(family, NftAddrField::Src, NftReg::R1)
            .lookup(addr_set(family).name, NftReg::R1)
            .vmap(subnet_map(family).name, NftReg::R1);
    }
    return base;
}

// What the attachment's addresses need: the table, the sets, a chain and a map entry per
// subnet. The base chain goes last: the subnet chains must exist before anything jumps there.
NftSkeleton skeleton(const MasqAttachment& a) {
    NftSkeleton s{{table()},
                  {addr_set(Family::V4), addr_set(Family::V6), subnet_map(Family::V4),
                   subnet_map(Family::V6)},
                  {},
                  {}};
    std::set<IpNet> subnets;
    for (const auto& addr : a.addresses) {
        subnets.insert(addr.network());
    }
    for (const auto& subnet : subnets) {
        s.chains.push_back(subnet_chain(subnet));
        s.shared.push_back({subnet_map(subnet.family()),
                            nft_prefix_elems(subnet, NftVerdict::jump(masq_chain_name(subnet)))});
    }
    s.chains.push_back(base_chain_spec());
    return s;
}

void validate(const MasqAttachment& a, std::string_view op) {
    NftOwner{a.network, a.container_id, a.ifname}.validate(op);
    for (const auto& addr : a.addresses) {
        if (addr.addr().is_multicast() || addr.addr().is_unspecified()) {
            throw InvalidInput(op, addr.to_string(), "not a unicast container address");
        }
    }
}

std::string owner_comment(const MasqAttachment& a) {
    return NftOwner{a.network, a.container_id, a.ifname}.comment();
}

// The subnets that have a chain, from the subnet maps' entries.
std::vector<IpNet> known_subnets(NftSocket& sock) {
    std::vector<IpNet> out;
    for (auto family : {Family::V4, Family::V6}) {
        for (const auto& e :
             sock.list_elements(subnet_map(family)).value_or(std::vector<NftElem>{})) {
            if (auto subnet = e.verdict ? masq_chain_subnet(e.verdict->chain) : std::nullopt) {
                out.push_back(*subnet);
            }
        }
    }
    return out;
}

// The most specific known subnet holding `addr`, else the address itself.
IpNet subnet_of(const IpAddr& addr, const std::vector<IpNet>& subnets) {
    IpNet best = IpNet::host(addr);
    int best_len = -1;
    for (const auto& s : subnets) {
        if (s.contains(addr) && s.prefix() > best_len) {
            best = s;
            best_len = s.prefix();
        }
    }
    return best;
}

}  // namespace

std::string masq_chain_name(const IpNet& subnet) {
    auto net = subnet.network();
    auto bytes = net.addr().bytes();
    std::string name = net.family() == Family::V4 ? "masq4" : "masq6";
    char buf[8];
    for (std::size_t i = 0; i < bytes.size(); i += net.family() == Family::V4 ? 1 : 2) {
        if (net.family() == Family::V4) {
            std::snprintf(buf, sizeof buf, "_%u", unsigned{bytes[i]});
        } else {
            std::snprintf(buf, sizeof buf, "_%x", (unsigned{bytes[i]} << 8) | bytes[i + 1]);
        }
        name += buf;
    }
    return name + '_' + std::to_string(net.prefix());
}

std::optional<IpNet> masq_chain_subnet(std::string_view chain) {
    bool v4 = chain.starts_with("masq4_");
    if (!v4 && !chain.starts_with("masq6_")) {
        return std::nullopt;
    }
    chain.remove_prefix(6);
    auto last = chain.rfind('_');
    int prefix = -1;
    if (last == std::string_view::npos ||
        std::from_chars(chain.data() + last + 1, chain.data() + chain.size(), prefix).ec !=
            std::errc{}) {
        return std::nullopt;
    }
    std::string text(chain.substr(0, last));
    std::replace(text.begin(), text.end(), '_', v4 ? '.' : ':');
    auto addr = IpAddr::try_parse(text);
    if (!addr || addr->is_v4() != v4 || prefix < 0 || prefix > addr->bit_len()) {
        return std::nullopt;
    }
    return IpNet(*addr, prefix);
}

void masq_add(NftSocket& sock, const MasqAttachment& a) {
    validate(a, "masq_add");
    std::vector<NftSetElem> want;
    for (const auto& addr : a.addresses) {
        want.push_back({addr_set(addr.family()),
                        NftElem{nft_key(addr.addr()), {}, {}, {}, owner_comment(a), false}});
    }
    if (!want.empty()) {
        nft_ensure_elements(sock, skeleton(a), want);
    }
}

void masq_del(NftSocket& sock, const MasqAttachment& a) {
    validate(a, "masq_del");
    auto comment = owner_comment(a);
    auto mine = [&comment](const NftElem& e) { return e.comment == comment; };
    if (a.addresses.empty()) {
        auto sets = addr_sets();
        nft_remove_all_if(sock, sets, mine);
        return;
    }
    std::vector<NftSetElem> keys;
    for (const auto& addr : a.addresses) {
        keys.push_back(
            {addr_set(addr.family()), NftElem{nft_key(addr.addr()), {}, {}, {}, {}, false}});
    }
    nft_remove_elements_if(sock, keys, mine);
}

std::vector<MasqEntry> masq_list(NftSocket& sock, std::optional<std::string> network) {
    std::vector<MasqEntry> out;
    std::optional<std::vector<IpNet>> subnets;  // listed on first need
    for (const auto& set : addr_sets()) {
        for (const auto& elem : sock.list_elements(set).value_or(std::vector<NftElem>{})) {
            auto owner = NftOwner::parse(elem.comment);
            if (!owner || (network && owner->network != *network) ||
                (elem.key.size() != 4 && elem.key.size() != 16)) {
                continue;
            }
            if (!subnets) {
                subnets = known_subnets(sock);
            }
            auto addr = IpAddr::from_bytes(elem.key);
            out.push_back({owner->network, owner->container_id, owner->ifname, addr,
                           subnet_of(addr, *subnets)});
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

void masq_gc(NftSocket& sock, const std::string& network,
             const std::set<std::pair<std::string, std::string>>& valid) {
    if (network.empty()) {
        throw InvalidInput("masq_gc", "", "network name is empty");
    }
    auto stale = [&](const NftElem& e) { return nft_is_stale(e, network, valid); };
    auto sets = addr_sets();
    nft_remove_all_if(sock, sets, stale);
}

void masq_add(const MasqAttachment& a) {
    NftSocket sock;
    masq_add(sock, a);
}

void masq_del(const MasqAttachment& a) {
    NftSocket sock;
    masq_del(sock, a);
}

std::vector<MasqEntry> masq_list(std::optional<std::string> network) {
    NftSocket sock;
    return masq_list(sock, std::move(network));
}

void masq_gc(const std::string& network,
             const std::set<std::pair<std::string, std::string>>& valid) {
    NftSocket sock;
    masq_gc(sock, network, valid);
}

}  // namespace netlib
