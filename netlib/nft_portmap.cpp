#include "netlib/nft_portmap.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <map>

#include "netlib/error.hpp"
#include "netlib/nft_masq.hpp"

namespace netlib {
namespace {

constexpr std::uint32_t kIpsDstNat = 1U << 5;  // IPS_DST_NAT: the connection was DNATed

const NftTableRef& table() {
    static const NftTableRef kTable{NftFamily::Inet, kPortmapTable};
    return kTable;
}

// The sets and maps of one address family.
struct FamilySets {
    NftSet host;          // proto . host address . port : container address . port
    NftSet any;           // proto . port : container address . port
    NftSet guard_host;    // proto . host address . port : jump guard chain
    NftSet guard_any;     // proto . port : jump guard chain
    NftSet hairpin;       // container addresses (snat)
    NftSet masq_all;      // container addresses (masqAll)
    NftSet hairpin_nets;  // subnet : jump hairpin chain (interval)
    NftSet host_addrs;    // every host address a specific mapping ever used (shared)
};

FamilySets make_sets(Family f) {
    const char* n = f == Family::V4 ? "4" : "6";
    NftType addr = f == Family::V4 ? NftType::Ipv4Addr : NftType::Ipv6Addr;
    auto name = [n](const char* base) { return std::string(base) + n; };
    std::vector<NftType> host_key{NftType::InetProto, addr, NftType::InetService};
    std::vector<NftType> any_key{NftType::InetProto, NftType::InetService};
    std::vector<NftType> target{addr, NftType::InetService};
    return {{table(), name("hostports"), host_key, target, false},
            {table(), name("anyports"), any_key, target, false},
            {table(), name("guardhost"), host_key, {NftType::Verdict}, false},
            {table(), name("guardany"), any_key, {NftType::Verdict}, false},
            {table(), name("hairpin"), {addr}, {}, false},
            {table(), name("masqall"), {addr}, {}, false},
            {table(), name("hairpin_nets"), {addr}, {NftType::Verdict}, true},
            {table(), name("hostaddrs"), {addr}, {}, false}};
}

const FamilySets& sets(Family f) {
    static const FamilySets kV4 = make_sets(Family::V4);
    static const FamilySets kV6 = make_sets(Family::V6);
    return f == Family::V4 ? kV4 : kV6;
}

// The sets holding owned elements, for listing.
std::vector<NftSet> owned_sets() {
    std::vector<NftSet> out;
    for (auto f : {Family::V4, Family::V6}) {
        const auto& s = sets(f);
        for (const auto* set :
             {&s.host, &s.any, &s.guard_host, &s.guard_any, &s.hairpin, &s.masq_all}) {
            out.push_back(*set);
        }
    }
    return out;
}

// Bytes as a map key (g++ 12 warns wrongly about comparing byte vectors in std::set/map).
std::string as_text(const NftBytes& bytes) {
    return {bytes.begin(), bytes.end()};
}

bool is_wildcard(const PortMapping& m) {
    return !m.host_addr || m.host_addr->is_unspecified();
}

const NftSet& data_set(const PortMapping& m) {
    return is_wildcard(m) ? sets(m.family()).any : sets(m.family()).host;
}

const NftSet& guard_set(const PortMapping& m) {
    return is_wildcard(m) ? sets(m.family()).guard_any : sets(m.family()).guard_host;
}

NftBytes proto_key(L4Proto p) {
    return nft_key_proto(static_cast<std::uint8_t>(p));
}

NftBytes key_of(L4Proto proto, const std::optional<IpAddr>& host, std::uint16_t port) {
    if (!host || host->is_unspecified()) {
        return nft_concat({proto_key(proto), nft_key_port(port)});
    }
    return nft_concat({proto_key(proto), nft_key(*host), nft_key_port(port)});
}

NftBytes key_of(const PortMapping& m) {
    return key_of(m.proto, m.host_addr, m.host_port);
}

NftBytes target_of(const PortMapping& m) {
    return nft_concat({nft_key(m.container_addr), nft_key_port(m.container_port)});
}

std::uint16_t port_at(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

// The mapping an element of a data map stands for; nullopt for malformed bytes.
std::optional<PortMapping> decode(Family f, bool wildcard, const NftElem& e) {
    std::size_t alen = f == Family::V4 ? 4 : 16;
    std::size_t key_len = wildcard ? 8 : 8 + alen;
    if (e.key.size() != key_len || !e.data || e.data->size() != alen + 4) {
        return std::nullopt;
    }
    PortMapping m;
    m.proto = static_cast<L4Proto>(e.key[0]);
    if (!wildcard) {
        m.host_addr = IpAddr::from_bytes(std::span(e.key).subspan(4, alen));
    }
    m.host_port = port_at(e.key, key_len - 4);
    m.container_addr = IpAddr::from_bytes(std::span(*e.data).first(alen));
    m.container_port = port_at(*e.data, alen);
    return m;
}

// FNV-1a: a stable short name for a guard chain.
std::string short_hash(std::string_view text) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : text) {
        h = (h ^ c) * 1099511628211ULL;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

const std::vector<PortmapMatch>& conditions(const PortmapAttachment& a, Family f) {
    return f == Family::V4 ? a.conditions4 : a.conditions6;
}

// One chain per owner and set of conditions, so changed conditions make a new chain.
std::string guard_chain_name(const PortmapAttachment& a, Family f) {
    std::string text = a.owner.comment();
    for (const auto& c : conditions(a, f)) {
        text += '|' + c.to_string();
    }
    return std::string(f == Family::V4 ? "guard4_" : "guard6_") + short_hash(text);
}

// "<conditions> return" then "accept": translation happens only when the conditions hold.
NftChainSpec guard_chain(const PortmapAttachment& a, Family f) {
    NftChainSpec spec{{table(), guard_chain_name(a, f), std::nullopt}, {}};
    NftRule pass(table(), spec.chain.name);
    for (const auto& c : conditions(a, f)) {
        auto op = c.negate ? NftCmpOp::Neq : NftCmpOp::Eq;
        switch (c.kind) {
            case PortmapMatch::Kind::Saddr:
                pass.match_prefix(NftAddrField::Src, c.net, op);
                break;
            case PortmapMatch::Kind::Daddr:
                pass.match_prefix(NftAddrField::Dst, c.net, op);
                break;
            case PortmapMatch::Kind::Iifname:
                pass.match_ifname(NftMetaKey::Iifname, c.ifname, op);
                break;
        }
    }
    pass.verdict({NftVerdictKind::Return, {}});
    spec.rules.push_back(std::move(pass));
    spec.rules.emplace_back(table(), spec.chain.name);
    spec.rules.back().verdict({NftVerdictKind::Accept, {}});
    return spec;
}

std::string hairpin_chain_name(const IpNet& subnet) {
    return "hairpin" + masq_chain_name(subnet).substr(4);  // masq4_10_0_0_0_24 -> hairpin4_...
}

// Masquerades translated connections to a container of `subnet` from that subnet (hairpin)
// and, for IPv4, from 127.0.0.0/8 (the host's own loopback, with route_localnet).
NftChainSpec hairpin_chain(const IpNet& subnet) {
    NftChainSpec spec{{table(), hairpin_chain_name(subnet), std::nullopt}, {}};
    spec.rules.emplace_back(table(), spec.chain.name);
    spec.rules.back().match_prefix(NftAddrField::Src, subnet, NftCmpOp::Eq).masquerade();
    if (subnet.family() == Family::V4) {
        spec.rules.emplace_back(table(), spec.chain.name);
        spec.rules.back()
            .match_prefix(NftAddrField::Src, IpNet::parse("127.0.0.0/8"), NftCmpOp::Eq)
            .masquerade();
    }
    return spec;
}

// Where a lookup's key and result sit in the registers (32-bit register indexes).
struct DnatRegs {
    unsigned data;  // first register of "container address . port"
    unsigned port;  // the port within it
};

DnatRegs dnat_regs(Family f, bool wildcard) {
    bool v4 = f == Family::V4;
    if (wildcard) {
        return v4 ? DnatRegs{2, 3} : DnatRegs{4, 8};
    }
    return v4 ? DnatRegs{4, 5} : DnatRegs{8, 12};
}

// "meta l4proto . [ip daddr .] th dport" into registers 0.. (after "meta nfproto").
NftRule& load_key(NftRule& r, Family f, bool wildcard) {
    r.match_nfproto(f).load_meta(NftMetaKey::L4proto, nft_reg32(0));
    unsigned port_reg = 1;
    if (!wildcard) {
        r.load_addr(f, NftAddrField::Dst, nft_reg32(1));
        port_reg = f == Family::V4 ? 2 : 5;
    }
    return r.add(NftPayloadExpr{NftPayloadBase::Transport, 2, 2, nft_reg32(port_reg)});
}

NftChainSpec dnat_chain() {
    NftChainSpec spec{{table(), "dnat", std::nullopt}, {}};
    for (auto f : {Family::V4, Family::V6}) {
        for (bool wildcard : {false, true}) {
            NftRule r(table(), spec.chain.name);
            load_key(r, f, wildcard)
                .vmap(wildcard ? sets(f).guard_any.name : sets(f).guard_host.name, nft_reg32(0));
            spec.rules.push_back(std::move(r));
        }
        for (bool wildcard : {false, true}) {
            auto regs = dnat_regs(f, wildcard);
            NftRule r(table(), spec.chain.name);
            load_key(r, f, wildcard)
                .map(wildcard ? sets(f).any.name : sets(f).host.name, nft_reg32(0),
                     nft_reg32(regs.data))
                .add(NftNatExpr{true, f, nft_reg32(regs.data), nft_reg32(regs.port)});
            spec.rules.push_back(std::move(r));
        }
    }
    return spec;
}

NftChainSpec hook_chain(const char* name, NftHook hook) {
    NftChainSpec spec{{table(), name, NftBaseChain{NftChainType::Nat, hook, kNftPrioDstNat, true}},
                      {}};
    spec.rules.emplace_back(table(), name);
    spec.rules.back().match_fib_daddr_local().verdict(NftVerdict::jump("dnat"));
    return spec;
}

NftChainSpec postrouting_chain() {
    NftChainSpec spec{{table(), "postrouting",
                       NftBaseChain{NftChainType::Nat, NftHook::Postrouting, kNftPrioSrcNat, true}},
                      {}};
    for (auto f : {Family::V4, Family::V6}) {
        spec.rules.emplace_back(table(), spec.chain.name);
        spec.rules.back()
            .match_ct_status(kIpsDstNat)
            .load_addr(f, NftAddrField::Dst, NftReg::R1)
            .lookup(sets(f).masq_all.name, NftReg::R1)
            .masquerade();
        spec.rules.emplace_back(table(), spec.chain.name);
        spec.rules.back()
            .match_ct_status(kIpsDstNat)
            .load_addr(f, NftAddrField::Dst, NftReg::R1)
            .lookup(sets(f).hairpin.name, NftReg::R1)
            .vmap(sets(f).hairpin_nets.name, NftReg::R1);
    }
    return spec;
}

bool guarded(const PortmapAttachment& a, Family f) {
    return !conditions(a, f).empty();
}

NftElem owned(NftBytes key, std::string comment) {
    return NftElem{std::move(key), {}, {}, {}, std::move(comment), false};
}

NftSkeleton skeleton(const PortmapAttachment& a) {
    NftSkeleton s;
    s.tables = {table()};
    for (auto f : {Family::V4, Family::V6}) {
        const auto& fs = sets(f);
        s.sets.insert(s.sets.end(), {fs.host, fs.any, fs.guard_host, fs.guard_any, fs.hairpin,
                                     fs.masq_all, fs.hairpin_nets, fs.host_addrs});
    }
    std::set<IpNet> subnets;
    for (const auto& addr : a.hairpin) {
        subnets.insert(addr.network());
    }
    for (const auto& subnet : subnets) {
        s.chains.push_back(hairpin_chain(subnet));
        s.shared.push_back(
            {sets(subnet.family()).hairpin_nets,
             nft_prefix_elems(subnet, NftVerdict::jump(hairpin_chain_name(subnet)))});
    }
    for (const auto& m : a.mappings) {
        if (!is_wildcard(m)) {
            s.shared.push_back({sets(m.family()).host_addrs, {owned(nft_key(*m.host_addr), {})}});
        }
    }
    for (auto f : {Family::V4, Family::V6}) {
        if (guarded(a, f)) {
            s.chains.push_back(guard_chain(a, f));
        }
    }
    s.chains.push_back(dnat_chain());
    s.chains.push_back(hook_chain("prerouting", NftHook::Prerouting));
    s.chains.push_back(hook_chain("output", NftHook::Output));
    s.chains.push_back(postrouting_chain());
    return s;
}

struct Wanted {
    std::vector<NftSetElem> elems;
    std::vector<std::optional<PortMapping>> mapping;  // per element: the mapping it publishes
};

Wanted wanted(const PortmapAttachment& a) {
    Wanted w;
    auto comment = a.owner.comment();
    auto push = [&w](NftSetElem e, std::optional<PortMapping> m) {
        w.elems.push_back(std::move(e));
        w.mapping.push_back(m);
    };
    for (const auto& m : a.mappings) {
        auto elem = owned(key_of(m), comment);
        elem.data = target_of(m);
        push({data_set(m), elem}, m);
        if (guarded(a, m.family())) {
            elem.data.reset();
            elem.verdict = NftVerdict::jump(guard_chain_name(a, m.family()));
            push({guard_set(m), std::move(elem)}, m);
        }
    }
    for (const auto& addr : a.hairpin) {
        push({sets(addr.family()).hairpin, owned(nft_key(addr.addr()), comment)}, std::nullopt);
    }
    for (const auto& addr : a.masq_all) {
        push({sets(addr.family()).masq_all, owned(nft_key(addr), comment)}, std::nullopt);
    }
    return w;
}

std::string holder_of(const std::string& comment) {
    auto owner = NftOwner::parse(comment);
    return owner ? owner->to_string() : comment.empty() ? "(no owner tag)" : comment;
}

// Podman hands a container's port mappings to the portmap of every network the container
// joins. A key the same container holds through another attachment (other network or ifname)
// is therefore no conflict: it keeps leading there (with the reference, the first network's
// rule wins too) and is left out of this attachment, so that detaching the second network does
// not unpublish it.
bool held_by_same_container(const std::optional<NftOwner>& holder, const NftOwner& owner) {
    return holder && holder->container_id == owner.container_id && *holder != owner;
}

// The host addresses specific mappings use, per family, listed once per call (a handful: the
// set only grows by new host addresses, and never by containers).
class HostAddrs {
public:
    explicit HostAddrs(NftSocket& sock) : sock_(sock) {}

    const std::vector<IpAddr>& of(Family f) {
        auto& cached = f == Family::V4 ? v4_ : v6_;
        if (!cached) {
            cached.emplace();
            for (const auto& e :
                 sock_.list_elements(sets(f).host_addrs).value_or(std::vector<NftElem>{})) {
                if (e.key.size() == 4 || e.key.size() == 16) {
                    cached->push_back(IpAddr::from_bytes(e.key));
                }
            }
        }
        return *cached;
    }

    void forget() {
        v4_.reset();
        v6_.reset();
    }

private:
    NftSocket& sock_;
    std::optional<std::vector<IpAddr>> v4_, v6_;
};

// A mapping on every local address and one on a specific address with the same protocol and
// port compete for the same packets: refused unless both are ours.
void check_overlaps(NftSocket& sock, const PortmapAttachment& a, HostAddrs& hosts) {
    auto comment = a.owner.comment();
    for (const auto& m : a.mappings) {
        const auto& fs = sets(m.family());
        if (!is_wildcard(m)) {
            auto cur = sock.get_element(fs.any, key_of(m.proto, std::nullopt, m.host_port));
            if (cur && cur->comment != comment) {
                throw PortConflict(m, cur->comment, " on every local address");
            }
            continue;
        }
        for (const auto& addr : hosts.of(m.family())) {
            auto cur = sock.get_element(fs.host, key_of(m.proto, addr, m.host_port));
            if (cur && cur->comment != comment) {
                throw PortConflict(m, cur->comment, " on " + addr.to_string());
            }
        }
    }
}

// Two mappings of one request with the same host side but different targets.
void check_duplicates(const PortmapAttachment& a) {
    std::map<std::pair<const NftSet*, std::string>, const PortMapping*> seen;
    for (const auto& m : a.mappings) {
        auto [it, fresh] = seen.emplace(std::pair{&data_set(m), as_text(key_of(m))}, &m);
        if (!fresh && (it->second->container_addr != m.container_addr ||
                       it->second->container_port != m.container_port)) {
            throw InvalidInput("portmap_add", m.host_to_string(),
                               "published twice with different container ports");
        }
    }
}

void delete_unused_chains(NftSocket& sock, const std::set<std::string>& chains) {
    for (const auto& name : chains) {
        (void)nft_delete_chain_if_unused(sock, {table(), name, std::nullopt});
    }
}

std::set<std::string> guard_chains_of(const std::vector<NftSetElem>& elems) {
    std::set<std::string> out;
    for (const auto& e : elems) {
        if (e.elem.verdict && e.elem.verdict->chain.starts_with("guard")) {
            out.insert(e.elem.verdict->chain);
        }
    }
    return out;
}

void remove_and_clean(NftSocket& sock, std::span<const NftSetElem> keys,
                      const std::function<bool(const NftElem&)>& pred) {
    delete_unused_chains(sock, guard_chains_of(nft_remove_elements_if(sock, keys, pred)));
}

}  // namespace

std::string_view to_string(L4Proto proto) noexcept {
    switch (proto) {
        case L4Proto::Tcp:
            return "tcp";
        case L4Proto::Udp:
            return "udp";
        case L4Proto::Sctp:
            return "sctp";
    }
    return "?";
}

std::string PortMapping::host_to_string() const {
    std::string addr;
    if (is_wildcard(*this)) {
        addr = family() == Family::V4 ? "0.0.0.0" : "[::]";
    } else {
        addr = host_addr->is_v4() ? host_addr->to_string() : '[' + host_addr->to_string() + ']';
    }
    return std::string(netlib::to_string(proto)) + ' ' + addr + ':' + std::to_string(host_port);
}

std::string PortmapMatch::to_string() const {
    std::string out;
    switch (kind) {
        case Kind::Saddr:
        case Kind::Daddr:
            out = std::string(net.family() == Family::V4 ? "ip " : "ip6 ") +
                  (kind == Kind::Saddr ? "saddr " : "daddr ");
            break;
        case Kind::Iifname:
            out = "iifname ";
            break;
    }
    out += negate ? "!= " : "";
    return out + (kind == Kind::Iifname ? ifname : net.to_string());
}

PortConflict::PortConflict(const PortMapping& wanted, const std::string& comment,
                           std::string_view where)
    : Error(EADDRINUSE, "portmap_add", wanted.host_to_string()),
      wanted_(wanted),
      holder_(NftOwner::parse(comment)),
      holder_name_(holder_of(comment)),
      message_("host port " + wanted_.host_to_string() + " is already published by " +
               holder_name_ + std::string(where)) {}

namespace {

// One attempt of portmap_add: every mapping of `a`, or a PortConflict.
std::vector<PortMapping> add_once(NftSocket& sock, const PortmapAttachment& a) {
    auto w = wanted(a);
    if (w.elems.empty()) {
        return {};
    }
    HostAddrs hosts(sock);
    check_overlaps(sock, a, hosts);
    auto comment = a.owner.comment();
    std::set<std::string> old_guards;
    auto on_taken = [&](const NftSetElem& want, const NftElem& cur) {
        auto i = static_cast<std::size_t>(&want - w.elems.data());
        if (!w.mapping[i]) {
            return;  // a masquerade address: the newest owner takes it, as in nft_masq
        }
        if (cur.comment != comment) {
            throw PortConflict(*w.mapping[i], cur.comment, "");
        }
        if (cur.verdict && cur.verdict->chain != want.elem.verdict.value_or(NftVerdict{}).chain) {
            old_guards.insert(cur.verdict->chain);  // conditions changed since the last ADD
        }
    };
    auto results = nft_ensure_elements(sock, skeleton(a), w.elems, on_taken);
    try {
        hosts.forget();
        check_overlaps(sock, a, hosts);  // a concurrent ADD may have slipped in
    } catch (const PortConflict&) {
        std::vector<NftSetElem> added;
        for (std::size_t i = 0; i < results.size(); ++i) {
            if (results[i] == NftEnsured::Added) {
                added.push_back(w.elems[i]);
            }
        }
        remove_and_clean(sock, added, [&](const NftElem& e) { return e.comment == comment; });
        throw;
    }
    delete_unused_chains(sock, old_guards);
    std::vector<PortMapping> fresh;
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (w.mapping[i] && results[i] != NftEnsured::Unchanged &&
            w.elems[i].set == data_set(*w.mapping[i])) {
            fresh.push_back(*w.mapping[i]);
        }
    }
    return fresh;
}

// Matches the mappings publishing the same host port as `m`.
auto same_host_side(const PortMapping& m) {
    return [&m](const PortMapping& other) {
        return other.proto == m.proto && other.host_addr == m.host_addr &&
               other.host_port == m.host_port && other.family() == m.family();
    };
}

}  // namespace

PortmapAdded portmap_add(NftSocket& sock, const PortmapAttachment& a) {
    a.owner.validate("portmap_add");
    check_duplicates(a);
    PortmapAttachment rest = a;  // without the ports the same container publishes elsewhere
    // Conflicts are rare: the common ADD makes one attempt.
    for (;;) {
        try {
            auto fresh = add_once(sock, rest);
            return {std::move(rest.mappings), std::move(fresh)};
        } catch (const PortConflict& e) {
            if (!held_by_same_container(e.holder(), a.owner) ||
                std::erase_if(rest.mappings, same_host_side(e.wanted())) == 0) {
                throw;
            }
        }
    }
}

void portmap_del(NftSocket& sock, const PortmapAttachment& a) {
    a.owner.validate("portmap_del");
    auto comment = a.owner.comment();
    auto mine = [&comment](const NftElem& e) { return e.comment == comment; };
    if (a.mappings.empty()) {
        auto all = owned_sets();
        delete_unused_chains(sock, guard_chains_of(nft_remove_all_if(sock, all, mine)));
        return;
    }
    std::vector<NftSetElem> keys;
    for (const auto& m : a.mappings) {
        keys.push_back({data_set(m), owned(key_of(m), {})});
        keys.push_back({guard_set(m), owned(key_of(m), {})});
    }
    for (const auto& addr : a.hairpin) {
        keys.push_back({sets(addr.family()).hairpin, owned(nft_key(addr.addr()), {})});
        keys.push_back({sets(addr.family()).masq_all, owned(nft_key(addr.addr()), {})});
    }
    for (const auto& addr : a.masq_all) {
        keys.push_back({sets(addr.family()).masq_all, owned(nft_key(addr), {})});
    }
    remove_and_clean(sock, keys, mine);
    if (a.hairpin.empty() && a.masq_all.empty()) {
        // Container addresses unknown: find this owner's masquerade entries by listing.
        std::vector<NftSet> masq;
        for (auto f : {Family::V4, Family::V6}) {
            masq.push_back(sets(f).hairpin);
            masq.push_back(sets(f).masq_all);
        }
        (void)nft_remove_all_if(sock, masq, mine);
    }
}

void portmap_gc(NftSocket& sock, const std::string& network,
                const std::set<std::pair<std::string, std::string>>& valid) {
    if (network.empty()) {
        throw InvalidInput("portmap_gc", "", "network name is empty");
    }
    auto stale = [&](const NftElem& e) {
        return nft_is_stale(e, network, valid, NftIdOnly::KeepsContainer);
    };
    auto all = owned_sets();
    delete_unused_chains(sock, guard_chains_of(nft_remove_all_if(sock, all, stale)));
}

std::vector<PortmapEntry> portmap_list(NftSocket& sock, std::optional<std::string> network) {
    std::vector<PortmapEntry> out;
    for (auto f : {Family::V4, Family::V6}) {
        const auto& fs = sets(f);
        for (bool wildcard : {false, true}) {
            std::set<std::string> guards;
            for (const auto& g : sock.list_elements(wildcard ? fs.guard_any : fs.guard_host)
                                     .value_or(std::vector<NftElem>{})) {
                guards.insert(as_text(g.key));
            }
            for (const auto& e :
                 sock.list_elements(wildcard ? fs.any : fs.host).value_or(std::vector<NftElem>{})) {
                auto owner = NftOwner::parse(e.comment);
                auto m = decode(f, wildcard, e);
                if (owner && m && (!network || owner->network == *network)) {
                    out.push_back({*owner, *m, guards.contains(as_text(e.key))});
                }
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> portmap_check(NftSocket& sock, const PortmapAttachment& a) {
    std::vector<std::string> problems;
    auto comment = a.owner.comment();
    for (const auto& chain : {"dnat", "prerouting", "output", "postrouting"}) {
        if (!sock.has_chain({table(), chain, std::nullopt})) {
            problems.push_back("chain " + std::string(chain) + " of table inet " + kPortmapTable +
                               " is missing");
        }
    }
    for (const auto& m : a.mappings) {
        auto cur = sock.get_element(data_set(m), key_of(m));
        if (!cur) {
            problems.push_back(m.host_to_string() + " is not published");
        } else if (held_by_same_container(NftOwner::parse(cur->comment), a.owner)) {
            continue;  // left out of this attachment by portmap_add
        } else if (cur->comment != comment) {
            problems.push_back(m.host_to_string() + " is published by " + holder_of(cur->comment));
        } else if (cur->data != target_of(m)) {
            auto have = decode(m.family(), is_wildcard(m), *cur);
            problems.push_back(m.host_to_string() + " goes to " +
                               (have ? have->container_addr.to_string() + ':' +
                                           std::to_string(have->container_port)
                                     : std::string("an unreadable target")) +
                               ", expected " + m.container_addr.to_string() + ':' +
                               std::to_string(m.container_port));
        }
        if (guarded(a, m.family())) {
            auto guard = sock.get_element(guard_set(m), key_of(m));
            auto chain = guard_chain_name(a, m.family());
            if (!guard || !guard->verdict || guard->verdict->chain != chain ||
                !sock.has_chain({table(), chain, std::nullopt})) {
                problems.push_back("the conditions of " + m.host_to_string() + " are missing");
            }
        }
    }
    auto check_addr = [&](const NftSet& set, const IpAddr& addr, const char* what) {
        auto cur = sock.get_element(set, nft_key(addr));
        if (!cur || cur->comment != comment) {
            problems.push_back(std::string(what) + " of " + addr.to_string() + " is missing");
        }
    };
    for (const auto& addr : a.hairpin) {
        check_addr(sets(addr.family()).hairpin, addr.addr(), "hairpin masquerade");
    }
    for (const auto& addr : a.masq_all) {
        check_addr(sets(addr.family()).masq_all, addr, "masqAll masquerade");
    }
    return problems;
}

}  // namespace netlib
