#include "netlib/nft_firewall.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/nft_owned.hpp"

namespace netlib {
namespace {

constexpr std::size_t kIfNameSize = 16;

const NftTableRef& inet_table() {
    static const NftTableRef kTable{NftFamily::Inet, kFirewallTable};
    return kTable;
}

const NftTableRef& bridge_table() {
    static const NftTableRef kTable{NftFamily::Bridge, kFirewallTable};
    return kTable;
}

// Container addresses, one owner-tagged element each.
const NftSet& addr_set(Family family) {
    static const NftSet kV4{inet_table(), "ctr4", {NftType::Ipv4Addr}, {}, false};
    static const NftSet kV6{inet_table(), "ctr6", {NftType::Ipv6Addr}, {}, false};
    return family == Family::V4 ? kV4 : kV6;
}

// Bridges under same-bridge or isolated policy (shared elements).
const NftSet& isolated_bridges() {
    static const NftSet kSet{inet_table(), "isolated", {NftType::Ifname}, {}, false};
    return kSet;
}

// "br . br" for the bridges whose containers may talk to each other through the host.
const NftSet& same_bridge_pairs() {
    static const NftSet kSet{inet_table(), "same", {NftType::Ifname, NftType::Ifname}, {}, false};
    return kSet;
}

// Host-side ports of containers under the isolated policy (owner-tagged).
const NftSet& isolated_ports() {
    static const NftSet kSet{bridge_table(), "isolated_ports", {NftType::Ifname}, {}, false};
    return kSet;
}

std::vector<NftSet> owned_sets() {
    return {addr_set(Family::V4), addr_set(Family::V6), isolated_ports()};
}

NftBaseChain forward_hook() {
    return NftBaseChain{NftChainType::Filter, NftHook::Forward, kNftPrioFilter, true};
}

// "ct state established,related": the state is a host-order u32 bit mask.
void match_established(NftRule& rule) {
    std::uint32_t bits = (1U << 1) | (1U << 2);  // NF_CT_STATE_BIT(IP_CT_ESTABLISHED/RELATED)
    NftBytes mask(sizeof bits);
    std::memcpy(mask.data(), &bits, sizeof bits);
    rule.add(NftCtExpr{NftCtKey::State, NftReg::R1});
    rule.add(NftBitwiseExpr{NftReg::R1, std::move(mask), NftBytes(sizeof bits, 0)});
    rule.add(NftCmpExpr{NftReg::R1, NftCmpOp::Neq, NftBytes(sizeof bits, 0)});
}

NftChainSpec inet_forward() {
    NftChainSpec spec{{inet_table(), "forward", forward_hook()}, {}};
    auto rule = [&spec]() -> NftRule& { return spec.rules.emplace_back(inet_table(), "forward"); };
    // iifname @isolated oifname @isolated iifname . oifname != @same drop. The names fill the
    // 16-byte registers R1 and R2, which the pair lookup reads as one concatenation.
    rule()
        .load_meta(NftMetaKey::Iifname, NftReg::R1)
        .lookup(isolated_bridges().name, NftReg::R1)
        .load_meta(NftMetaKey::Oifname, NftReg::R2)
        .lookup(isolated_bridges().name, NftReg::R2)
        .lookup(same_bridge_pairs().name, NftReg::R1, true)
        .verdict({NftVerdictKind::Drop, {}});
    rule().verdict(NftVerdict::jump(kFirewallAdminChain));
    for (auto family : {Family::V4, Family::V6}) {
        auto& back = rule()
                         .load_addr(family, NftAddrField::Dst, NftReg::R1)
                         .lookup(addr_set(family).name, NftReg::R1);
        match_established(back);
        back.verdict({NftVerdictKind::Accept, {}});
        rule()
            .load_addr(family, NftAddrField::Src, NftReg::R1)
            .lookup(addr_set(family).name, NftReg::R1)
            .verdict({NftVerdictKind::Accept, {}});
    }
    return spec;
}

// "iifname @isolated_ports oifname @isolated_ports drop" on bridged frames.
NftChainSpec bridge_forward() {
    NftChainSpec spec{{bridge_table(), "forward", forward_hook()}, {}};
    spec.rules.emplace_back(bridge_table(), "forward");
    spec.rules.back()
        .load_meta(NftMetaKey::Iifname, NftReg::R1)
        .lookup(isolated_ports().name, NftReg::R1)
        .load_meta(NftMetaKey::Oifname, NftReg::R1)
        .lookup(isolated_ports().name, NftReg::R1)
        .verdict({NftVerdictKind::Drop, {}});
    return spec;
}

std::string bridge_comment(const std::string& network, const std::string& bridge) {
    return "sdnet net=" + network + " bridge=" + bridge;
}

NftElem bare(NftBytes key, std::string comment = {}) {
    return NftElem{std::move(key), {}, {}, {}, std::move(comment), false};
}

std::string owner_comment(const FirewallAttachment& a, std::string_view op) {
    NftOwner owner{a.network, a.container_id, a.ifname};
    owner.validate(op);
    return owner.comment();
}

void validate(const FirewallAttachment& a, std::string_view op) {
    for (const auto& addr : a.addresses) {
        if (addr.is_multicast() || addr.is_unspecified()) {
            throw InvalidInput(op, addr.to_string(), "not a unicast container address");
        }
    }
    if (a.policy != IngressPolicy::Open && a.bridge.empty()) {
        throw InvalidInput(op, a.network, "an ingress policy needs the bridge");
    }
    if (a.policy == IngressPolicy::Isolated && a.host_port.empty()) {
        throw InvalidInput(op, a.network, "the isolated policy needs the container's port");
    }
}

NftSkeleton skeleton(const FirewallAttachment& a) {
    NftSkeleton s{
        {inet_table()},
        {addr_set(Family::V4), addr_set(Family::V6), isolated_bridges(), same_bridge_pairs()},
        {{{inet_table(), kFirewallAdminChain, std::nullopt}, {}}, inet_forward()},
        {}};
    if (a.policy == IngressPolicy::Open) {
        return s;
    }
    auto comment = bridge_comment(a.network, a.bridge);
    auto br = nft_key_ifname(a.bridge, "firewall_add");
    s.shared.push_back({isolated_bridges(), {bare(br, comment)}});
    if (a.policy == IngressPolicy::SameBridge) {
        s.shared.push_back({same_bridge_pairs(), {bare(nft_concat({br, br}), comment)}});
    } else {
        s.tables.push_back(bridge_table());
        s.sets.push_back(isolated_ports());
        s.chains.push_back(bridge_forward());
    }
    return s;
}

// The owned elements of `a`, with `comment` (empty for keys only).
std::vector<NftSetElem> owned_elements(const FirewallAttachment& a, const std::string& comment,
                                       std::string_view op) {
    std::vector<NftSetElem> out;
    for (const auto& addr : a.addresses) {
        out.push_back({addr_set(addr.family()), bare(nft_key(addr), comment)});
    }
    if (!a.host_port.empty()) {
        out.push_back({isolated_ports(), bare(nft_key_ifname(a.host_port, op), comment)});
    }
    return out;
}

std::string key_ifname(const NftBytes& key, std::size_t offset = 0) {
    auto begin = key.begin() + static_cast<std::ptrdiff_t>(std::min(offset, key.size()));
    auto end =
        key.begin() + static_cast<std::ptrdiff_t>(std::min(offset + kIfNameSize, key.size()));
    return {begin, std::find(begin, end, 0)};
}

}  // namespace

void firewall_add(NftSocket& sock, const FirewallAttachment& a) {
    auto comment = owner_comment(a, "firewall_add");
    validate(a, "firewall_add");
    auto skel = skeleton(a);
    auto want = owned_elements(a, comment, "firewall_add");
    if (want.empty() && skel.shared.empty()) {
        return;  // nothing per container, no policy: the rules would match nothing of ours
    }
    nft_ensure_elements(sock, skel, want);
}

void firewall_del(NftSocket& sock, const FirewallAttachment& a) {
    auto comment = owner_comment(a, "firewall_del");
    auto mine = [&comment](const NftElem& e) { return e.comment == comment; };
    auto keys = owned_elements(a, {}, "firewall_del");
    if (keys.empty()) {
        auto sets = owned_sets();
        nft_remove_all_if(sock, sets, mine);
        return;
    }
    nft_remove_elements_if(sock, keys, mine);
}

std::vector<std::string> firewall_missing(NftSocket& sock, const FirewallAttachment& a) {
    auto comment = owner_comment(a, "firewall_check");
    validate(a, "firewall_check");
    std::vector<std::string> missing;
    for (const auto& want : owned_elements(a, comment, "firewall_check")) {
        auto have = sock.get_element(want.set, want.elem.key);
        if (!have || have->comment != comment) {
            missing.push_back(want.set.name + " element " +
                              nft_format_key(want.set, want.elem.key) + " of " + comment);
        }
    }
    for (const auto& shared : skeleton(a).shared) {
        for (const auto& e : shared.elems) {
            if (!sock.get_element(shared.set, e.key)) {
                missing.push_back(shared.set.name + " element " +
                                  nft_format_key(shared.set, e.key));
            }
        }
    }
    return missing;
}

std::vector<FirewallEntry> firewall_list(NftSocket& sock, std::optional<std::string> network) {
    std::vector<FirewallEntry> out;
    for (const auto& set : owned_sets()) {
        for (const auto& e : sock.list_elements(set).value_or(std::vector<NftElem>{})) {
            auto owner = NftOwner::parse(e.comment);
            if (!owner || (network && owner->network != *network)) {
                continue;
            }
            FirewallEntry entry{owner->network, owner->container_id, owner->ifname, {}, {}};
            if (set == isolated_ports()) {
                entry.host_port = key_ifname(e.key);
            } else if (e.key.size() == 4 || e.key.size() == 16) {
                entry.address = IpAddr::from_bytes(e.key);
            }
            out.push_back(std::move(entry));
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

void firewall_gc(NftSocket& sock, RouteSocket& links, const std::string& network,
                 const std::set<std::pair<std::string, std::string>>& valid) {
    if (network.empty()) {
        throw InvalidInput("firewall_gc", "", "network name is empty");
    }
    auto stale = [&](const NftElem& e) { return nft_is_stale(e, network, valid); };
    auto sets = owned_sets();
    nft_remove_all_if(sock, sets, stale);

    // Bridges this network isolated that are gone: their elements would isolate a future
    // bridge of the same name, whatever its network's policy.
    std::vector<NftSetElem> gone;
    for (const auto& e : sock.list_elements(isolated_bridges()).value_or(std::vector<NftElem>{})) {
        auto name = key_ifname(e.key);
        if (e.comment == bridge_comment(network, name) && !find_link(links, name)) {
            gone.push_back({isolated_bridges(), bare(e.key)});
            gone.push_back({same_bridge_pairs(), bare(nft_concat({e.key, e.key}))});
        }
    }
    if (!gone.empty()) {
        nft_remove_elements_if(sock, gone, [](const NftElem&) { return true; });
    }
}

}  // namespace netlib
