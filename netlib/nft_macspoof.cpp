#include "netlib/nft_macspoof.hpp"

#include <algorithm>
#include <cerrno>
#include <map>
#include <stdexcept>

#include "netlib/error.hpp"
#include "netlib/nft_owned.hpp"

namespace netlib {
namespace {

constexpr std::size_t kIfNameSize = 16;

const NftTableRef& table() {
    static const NftTableRef kTable{NftFamily::Bridge, kMacspoofTable};
    return kTable;
}

const NftSet& guarded() {
    static const NftSet kSet{table(), "guarded", {NftType::Ifname}, {}, false};
    return kSet;
}

const NftSet& allowed() {
    static const NftSet kSet{table(), "allowed", {NftType::Ifname, NftType::EtherAddr}, {}, false};
    return kSet;
}

// "iifname @guarded iifname . ether saddr != @allowed drop". The interface name fills the
// 16-byte register R1, so the MAC goes to R2 and the lookup reads the concatenation R1.R2.
NftSkeleton skeleton() {
    NftChainSpec chain{{table(), "prerouting",
                        NftBaseChain{NftChainType::Filter, NftHook::Prerouting, -300, true}},
                       {}};
    chain.rules.emplace_back(table(), chain.chain.name);
    chain.rules.back()
        .load_meta(NftMetaKey::Iifname, NftReg::R1)
        .lookup(guarded().name, NftReg::R1)
        .load_ether_addr(NftAddrField::Src, NftReg::R2)
        .lookup(allowed().name, NftReg::R1, true)
        .verdict({NftVerdictKind::Drop, {}});
    return {{table()}, {guarded(), allowed()}, {std::move(chain)}, {}};
}

std::string validated_comment(const MacspoofAttachment& a, std::string_view op) {
    NftOwner owner{a.network, a.container_id, a.ifname};
    owner.validate(op);
    return owner.comment();
}

std::string key_ifname(const NftBytes& key) {
    auto len = std::min(key.size(), kIfNameSize);
    auto end = std::find(key.begin(), key.begin() + static_cast<std::ptrdiff_t>(len), 0);
    return {key.begin(), end};
}

MacAddr key_mac(const NftBytes& key) {
    std::array<std::uint8_t, 6> mac{};
    if (key.size() >= kIfNameSize + mac.size()) {
        std::copy_n(key.begin() + kIfNameSize, mac.size(), mac.begin());
    }
    return MacAddr(mac);
}

// Drops allowed pairs of `host_ifname` other than `keep`: left by an earlier ADD with another
// MAC, or by an earlier owner of the interface name. Lists the set, so only done on the rare
// path where the port was guarded already.
void drop_other_macs(NftSocket& sock, const std::string& host_ifname, const NftBytes& keep) {
    auto other = [&](const NftElem& e) {
        return key_ifname(e.key) == host_ifname && e.key != keep;
    };
    std::vector<NftSet> sets{allowed()};
    nft_remove_all_if(sock, sets, other);
}

}  // namespace

void macspoof_add(NftSocket& sock, const MacspoofAttachment& a) {
    auto comment = validated_comment(a, "macspoof_add");
    auto port = nft_key_ifname(a.host_ifname, "macspoof_add");
    if (a.mac.is_zero() || (a.mac.bytes()[0] & 1) != 0) {
        throw InvalidInput("macspoof_add", a.mac.to_string(), "not a unicast MAC address");
    }
    auto pair = nft_concat({port, nft_key(a.mac)});
    std::vector<NftSetElem> want{
        {guarded(), NftElem{port, {}, {}, {}, comment, false}},
        {allowed(), NftElem{pair, {}, {}, {}, comment, false}},
    };
    auto result = nft_ensure_elements(sock, skeleton(), want);
    if (result.front() != NftEnsured::Added) {
        drop_other_macs(sock, a.host_ifname, pair);
    }
}

void macspoof_del(NftSocket& sock, const MacspoofAttachment& a) {
    auto comment = validated_comment(a, "macspoof_del");
    auto mine = [&comment](const NftElem& e) { return e.comment == comment; };
    if (a.host_ifname.empty() || a.mac.is_zero()) {
        std::vector<NftSet> sets{guarded(), allowed()};
        nft_remove_all_if(sock, sets, mine);
        return;
    }
    auto port = nft_key_ifname(a.host_ifname, "macspoof_del");
    std::vector<NftSetElem> keys{
        {guarded(), NftElem{port, {}, {}, {}, {}, false}},
        {allowed(), NftElem{nft_concat({port, nft_key(a.mac)}), {}, {}, {}, {}, false}},
    };
    nft_remove_elements_if(sock, keys, mine);
}

std::vector<MacspoofEntry> macspoof_list(NftSocket& sock, std::optional<std::string> network) {
    std::vector<MacspoofEntry> out;
    std::map<std::pair<std::string, std::string>, bool> ports;  // (host ifname, comment) -> has MAC
    auto collect = [&](const NftSet& set, bool with_mac) {
        for (const auto& e : sock.list_elements(set).value_or(std::vector<NftElem>{})) {
            auto owner = NftOwner::parse(e.comment);
            if (!owner || (network && owner->network != *network)) {
                continue;
            }
            auto port = key_ifname(e.key);
            if (with_mac) {
                ports[{port, e.comment}] = true;
                out.push_back(
                    {owner->network, owner->container_id, owner->ifname, port, key_mac(e.key)});
            } else if (!ports.contains({port, e.comment})) {
                out.push_back({owner->network, owner->container_id, owner->ifname, port, {}});
            }
        }
    };
    collect(allowed(), true);
    collect(guarded(), false);
    std::sort(out.begin(), out.end());
    return out;
}

void macspoof_gc(NftSocket& sock, const std::string& network,
                 const std::set<std::pair<std::string, std::string>>& valid) {
    if (network.empty()) {
        throw InvalidInput("macspoof_gc", "", "network name is empty");
    }
    auto stale = [&](const NftElem& e) { return nft_is_stale(e, network, valid); };
    std::vector<NftSet> sets{guarded(), allowed()};
    nft_remove_all_if(sock, sets, stale);
}

void macspoof_add(const MacspoofAttachment& a) {
    NftSocket sock;
    macspoof_add(sock, a);
}

void macspoof_del(const MacspoofAttachment& a) {
    NftSocket sock;
    macspoof_del(sock, a);
}

std::vector<MacspoofEntry> macspoof_list(std::optional<std::string> network) {
    NftSocket sock;
    return macspoof_list(sock, std::move(network));
}

void macspoof_gc(const std::string& network,
                 const std::set<std::pair<std::string, std::string>>& valid) {
    NftSocket sock;
    macspoof_gc(sock, network, valid);
}

}  // namespace netlib
