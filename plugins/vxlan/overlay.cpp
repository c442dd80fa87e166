#include "plugins/vxlan/overlay.hpp"

#include <algorithm>
#include <cerrno>
#include <set>
#include <string>

#include "netlib/addr.hpp"
#include "netlib/error.hpp"
#include "netlib/neigh.hpp"
#include "netlib/route.hpp"
#include "netlib/vxlan.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/common/container_iface.hpp"

namespace vxlan {
namespace {

using netlib::FdbEntry;
using netlib::IpAddr;
using netlib::NeighEntry;
using netlib::RouteSpec;

// Outer Ethernet + IP + UDP + VXLAN headers (RFC 7348): 14 + 20 + 8 + 8, with IPv6 14 + 40 + 8 + 8.
constexpr unsigned kOverheadV4 = 50;
constexpr unsigned kOverheadV6 = 70;
constexpr int kCreateTries = 3;

bool is_link_local(const IpAddr& a) {
    return !a.is_v4() && a.bytes()[0] == 0xfe && (a.bytes()[1] & 0xc0) == 0x80;
}

// The link holding `addr`, among all links of the host.
std::optional<netlib::LinkInfo> link_with_address(netlib::RouteSocket& host, const IpAddr& addr) {
    for (const auto& link : netlib::list_links(host)) {
        for (const auto& a : netlib::list_addresses(host, link.index, addr.family())) {
            if (a.addr() == addr) {
                return link;
            }
        }
    }
    return std::nullopt;
}

std::set<IpAddr> host_addresses(netlib::RouteSocket& host) {
    std::set<IpAddr> out;
    for (const auto& a : netlib::list_addresses(host, 0)) {
        out.insert(a.addr());
    }
    return out;
}

// This node's underlay address: `local`, else the peer that is an address of this host, else the
// first global address of `dev` in the peers' family.
std::optional<IpAddr> self_address(netlib::RouteSocket& host, const Config& cfg,
                                   const netlib::LinkInfo& dev) {
    if (cfg.local) {
        return cfg.local;
    }
    auto mine = host_addresses(host);
    for (const auto& p : cfg.peers) {
        if (mine.contains(p.address)) {
            return p.address;
        }
    }
    std::optional<netlib::Family> family;
    if (!cfg.peers.empty()) {
        family = cfg.peers.front().address.family();
    } else if (cfg.group) {
        family = cfg.group->family();
    }
    for (const auto& a : netlib::list_addresses(host, dev.index, family)) {
        if (!is_link_local(a.addr())) {
            return a.addr();
        }
    }
    return std::nullopt;
}

template <class T>
bool contains(const std::vector<T>& v, const T& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

// Routed mode: what `peers` asks of the device, one list per kind of entry.
struct Wanted {
    std::vector<FdbEntry> fdb;
    std::vector<NeighEntry> neighs;
    std::vector<RouteSpec> routes;
};

Wanted wanted(const Config& cfg, const Underlay& u, int device_index) {
    Wanted w;
    for (const auto& p : remote_peers(cfg, u)) {
        if (cfg.mode == Mode::L2) {
            w.fdb.push_back({netlib::MacAddr{}, p.address});
            continue;
        }
        netlib::MacAddr mac = vtep_mac(cfg.vni, p.address);
        w.fdb.push_back({mac, p.address});
        for (const auto& subnet : p.subnets) {
            IpAddr gw = subnet.first();  // the peer's VXLAN endpoint in its subnet, as flannel
            w.neighs.push_back({gw, mac});
            RouteSpec r;
            r.dst = subnet;
            r.gw = gw;
            r.ifindex = device_index;
            r.onlink = true;
            w.routes.push_back(r);
        }
    }
    return w;
}

// The entries converge() owns: the device's FDB remotes (the all-zero one of `group`, which the
// kernel keeps for a multicast device, is not ours), its permanent neighbours, and the routes
// through it with a gateway (the kernel's own routes have none).
std::vector<FdbEntry> owned_fdb(const Config& cfg, std::vector<FdbEntry> all) {
    std::erase_if(all, [&](const FdbEntry& e) { return cfg.group && e.dst == *cfg.group; });
    if (cfg.mode == Mode::L2) {
        // Learnt entries carry a real MAC; the static ones are all-zero.
        std::erase_if(all, [](const FdbEntry& e) { return !e.mac.is_zero(); });
    }
    return all;
}

std::vector<RouteSpec> owned_routes(netlib::RouteSocket& host, int index) {
    std::vector<RouteSpec> out;
    for (auto& r : netlib::list_routes(host)) {
        if (r.ifindex == index && r.gw) {
            out.push_back(r);
        }
    }
    return out;
}

RouteSpec route_key(const RouteSpec& r) {
    RouteSpec k;
    k.dst = r.dst;
    k.gw = r.gw;
    k.ifindex = r.ifindex;
    return k;
}

netlib::LinkInfo adopt(netlib::RouteSocket& host, const Config& cfg, netlib::LinkInfo link,
                       int bridge_index) {
    auto info = netlib::vxlan_info(host, link.index);
    if (!info) {
        throw cni::Error(cni::Code::InvalidConfig,
                         "\"" + cfg.device + "\" exists and is not a VXLAN device");
    }
    if (info->vni != cfg.vni || info->port != cfg.port) {
        throw cni::Error(cni::Code::InvalidConfig,
                         "VXLAN device \"" + cfg.device + "\" of network \"" + cfg.bridge +
                             "\" has VNI " + std::to_string(info->vni) + " port " +
                             std::to_string(info->port) + "; the configuration asks for VNI " +
                             std::to_string(cfg.vni) + " port " + std::to_string(cfg.port),
                         "a network's VNI and port cannot change while containers use it; "
                         "remove them (DEL + GC) first");
    }
    if (cfg.mode == Mode::L2 && link.master != bridge_index) {
        netlib::set_master(host, link.index, bridge_index);
    }
    if (!link.up) {
        netlib::set_up(host, link.index, true);
        link.up = true;
    }
    return link;
}

}  // namespace

Underlay find_underlay(netlib::RouteSocket& host, const Config& cfg) {
    Underlay u;
    if (!cfg.dev.empty()) {
        auto dev = netlib::find_link(host, cfg.dev);
        if (!dev) {
            throw cni::config_error("\"dev\" \"" + cfg.dev + "\" does not exist");
        }
        u.link = *dev;
    }
    if (cfg.local) {
        auto holder = link_with_address(host, *cfg.local);
        if (!holder) {
            throw cni::config_error("\"local\" " + cfg.local->to_string() +
                                    " is not an address of this host");
        }
        if (cfg.dev.empty()) {
            u.link = *holder;
        }
    }
    u.self = self_address(host, cfg, u.link);
    u.family = u.self ? u.self->family() : netlib::Family::V4;
    if (cfg.mode == Mode::Routed && !u.self) {
        throw cni::config_error("routed mode needs this node's underlay address: set \"local\"");
    }
    cfg.check_subnets(u.self);
    unsigned overhead = u.family == netlib::Family::V6 ? kOverheadV6 : kOverheadV4;
    if (!cfg.mtu && u.link.mtu <= overhead + 68) {
        throw cni::config_error("underlay \"" + u.link.name + "\" has MTU " +
                                std::to_string(u.link.mtu) + ", too small for VXLAN");
    }
    u.overlay_mtu = cfg.mtu.value_or(u.link.mtu - overhead);
    return u;
}

std::vector<Peer> remote_peers(const Config& cfg, const Underlay& u) {
    std::vector<Peer> out;
    for (const auto& p : cfg.peers) {
        if (p.address != u.self) {
            out.push_back(p);
        }
    }
    return out;
}

netlib::MacAddr vtep_mac(std::uint32_t vni, const IpAddr& underlay) {
    // FNV-1a over the VNI and the address: stable, spread, no coordination needed.
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&h](std::uint8_t b) {
        h ^= b;
        h *= 1099511628211ULL;
    };
    for (int shift = 0; shift < 32; shift += 8) {
        mix(static_cast<std::uint8_t>(vni >> shift));
    }
    for (std::uint8_t b : underlay.bytes()) {
        mix(b);
    }
    std::array<std::uint8_t, 6> mac{0x02};  // locally administered, unicast
    for (std::size_t i = 1; i < mac.size(); ++i) {
        mac[i] = static_cast<std::uint8_t>(h >> (8 * i));
    }
    return netlib::MacAddr{mac};
}

netlib::LinkInfo ensure_device(netlib::RouteSocket& host, const Config& cfg, const Underlay& u,
                               int bridge_index) {
    for (int attempt = 0; attempt < kCreateTries; ++attempt) {
        if (auto link = netlib::find_link(host, cfg.device)) {
            return adopt(host, cfg, *link, bridge_index);
        }
        netlib::VxlanSpec spec;
        spec.name = cfg.device;
        spec.vni = cfg.vni;
        spec.port = cfg.port;
        // A device without a local address opens an IPv4 socket: an IPv6 underlay needs one.
        spec.local = cfg.local ? cfg.local : u.self;
        spec.group = cfg.group;
        spec.link = u.link.index;
        spec.learning = cfg.learning;
        spec.df = true;  // the overlay's MTU fits the underlay: never fragment the underlay
        spec.mtu = u.overlay_mtu;
        if (cfg.mode == Mode::Routed) {
            spec.mac = vtep_mac(cfg.vni, *u.self);
        } else {
            spec.master = bridge_index;
        }
        spec.up = true;
        spec.link_local = false;
        try {
            return netlib::create_vxlan(host, spec);
        } catch (const netlib::Error& e) {
            if (e.code() != EEXIST) {
                throw;
            }
            // A concurrent ADD made it first: adopt it on the next round. EEXIST also comes for
            // another device with this VNI and port on the same underlay address.
            if (!netlib::find_link(host, cfg.device)) {
                throw cni::Error(cni::Code::InvalidConfig,
                                 "cannot create VXLAN device \"" + cfg.device +
                                     "\": another "
                                     "device already uses VNI " +
                                     std::to_string(cfg.vni) + " and port " +
                                     std::to_string(cfg.port),
                                 e.what());
            }
        }
    }
    throw cni::Error(cni::Code::TryAgain,
                     "VXLAN device \"" + cfg.device + "\" keeps disappearing while being created");
}

namespace {

// L2 mode without a group: the MACs the device learnt behind a peer no longer listed would
// keep their unicast going there.
void forget_learnt(netlib::RouteSocket& host, const Config& cfg, const Wanted& w, int index,
                   const std::vector<FdbEntry>& all) {
    if (cfg.mode != Mode::L2 || cfg.group) {
        return;
    }
    for (const auto& e : all) {
        bool listed = std::any_of(w.fdb.begin(), w.fdb.end(),
                                  [&](const FdbEntry& p) { return p.dst == e.dst; });
        if (!e.mac.is_zero() && !listed) {
            (void)netlib::remove_fdb(host, index, e);
        }
    }
}

}  // namespace

// The common ADD finds everything in place: entries are read (dumps, without the RTNL lock) and
// only what differs is written.
void converge(netlib::RouteSocket& host, const Config& cfg, const Underlay& u, int index) {
    Wanted w = wanted(cfg, u, index);
    auto all = netlib::list_fdb(host, index);
    auto fdb = owned_fdb(cfg, all);
    for (const auto& e : fdb) {
        if (!contains(w.fdb, e)) {
            (void)netlib::remove_fdb(host, index, e);
        }
    }
    forget_learnt(host, cfg, w, index, all);
    for (const auto& e : w.fdb) {
        if (contains(fdb, e)) {
            continue;
        }
        if (cfg.mode == Mode::L2) {
            netlib::append_fdb(host, index, e);  // one more remote of the all-zero MAC
        } else {
            netlib::replace_fdb(host, index, e);
        }
    }
    if (cfg.mode == Mode::L2) {
        return;
    }
    std::vector<RouteSpec> wanted_keys;
    for (const auto& r : w.routes) {
        wanted_keys.push_back(route_key(r));
    }
    std::vector<RouteSpec> routes;
    for (const auto& r : owned_routes(host, index)) {
        routes.push_back(route_key(r));
        if (!contains(wanted_keys, route_key(r))) {
            (void)netlib::remove_route(host, route_key(r));
        }
    }
    auto neighs = netlib::list_permanent_neighs(host, index);
    for (const auto& n : neighs) {
        if (!contains(w.neighs, n)) {
            (void)netlib::remove_neigh(host, index, n.ip);
        }
    }
    for (const auto& n : w.neighs) {
        if (!contains(neighs, n)) {
            netlib::replace_neigh(host, index, n);
        }
    }
    for (const auto& r : w.routes) {
        if (!contains(routes, route_key(r))) {
            netlib::replace_route(host, r);
        }
    }
}

void check_overlay(netlib::RouteSocket& host, const Config& cfg, const Underlay& u) {
    auto link = netlib::find_link(host, cfg.device);
    auto info = link ? netlib::vxlan_info(host, link->index) : std::nullopt;
    if (!info) {
        plugin::check_failed("VXLAN device \"" + cfg.device + "\" does not exist");
    }
    if (info->vni != cfg.vni || info->port != cfg.port) {
        plugin::check_failed("VXLAN device \"" + cfg.device + "\" has VNI " +
                             std::to_string(info->vni) + " port " + std::to_string(info->port) +
                             ", expected VNI " + std::to_string(cfg.vni) + " port " +
                             std::to_string(cfg.port));
    }
    if (cfg.mode == Mode::L2) {
        auto br = netlib::find_link(host, cfg.bridge);
        if (!br || link->master != br->index) {
            plugin::check_failed("VXLAN device \"" + cfg.device + "\" is not a port of \"" +
                                 cfg.bridge + "\"");
        }
    }
    Wanted w = wanted(cfg, u, link->index);
    auto fdb = owned_fdb(cfg, netlib::list_fdb(host, link->index));
    for (const auto& e : w.fdb) {
        if (!contains(fdb, e)) {
            plugin::check_failed("FDB entry " + e.mac.to_string() + " dst " + e.dst.to_string() +
                                 " of \"" + cfg.device + "\" is missing");
        }
    }
    if (fdb.size() != w.fdb.size()) {
        plugin::check_failed("\"" + cfg.device + "\" has FDB remotes of peers not in \"peers\"");
    }
    auto neighs = netlib::list_permanent_neighs(host, link->index);
    for (const auto& n : w.neighs) {
        if (!contains(neighs, n)) {
            plugin::check_failed("neighbour " + n.ip.to_string() + " of \"" + cfg.device +
                                 "\" is missing");
        }
    }
    std::vector<RouteSpec> routes;
    for (const auto& r : owned_routes(host, link->index)) {
        routes.push_back(route_key(r));
    }
    for (const auto& r : w.routes) {
        if (!contains(routes, route_key(r))) {
            plugin::check_failed("route to " + r.dst.to_string() + " via \"" + cfg.device +
                                 "\" is missing");
        }
    }
}

bool remove_if_unused(netlib::RouteSocket& host, const Config& cfg) {
    auto br = netlib::find_link(host, cfg.bridge);
    auto device = netlib::find_link(host, cfg.device);
    if (br) {
        for (const auto& l : netlib::list_links(host)) {
            if (l.master == br->index && (!device || l.index != device->index)) {
                return false;  // a container's port
            }
        }
    }
    if (device) {
        (void)netlib::remove_link(host, device->index);
    }
    if (br && br->kind == "bridge") {
        (void)netlib::remove_link(host, br->index);
    }
    return device || br;
}

}  // namespace vxlan
