#include "plugins/portmap/portmap.hpp"

#include <cerrno>
#include <map>
#include <set>

#include "netlib/conntrack.hpp"
#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/nft_portmap.hpp"
#include "netlib/route.hpp"
#include "netlib/route_socket.hpp"
#include "netlib/sysctl.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/gc.hpp"
#include "plugins/cni/rollback.hpp"
#include "plugins/cni/stdio.hpp"
#include "plugins/common/needs_kernel.hpp"
#include "plugins/portmap/config.hpp"

namespace portmap {
namespace {

constexpr std::uint8_t kUdp = 17;

// The container's first IPv4 and first IPv6 address on CNI_IFNAME (an address naming no
// interface counts, as in the reference).
std::vector<netlib::IpNet> container_addresses(const cni::Request& req) {
    std::vector<netlib::IpNet> out;
    if (!req.conf.prev_result) {
        return out;
    }
    const auto& prev = *req.conf.prev_result;
    std::set<netlib::Family> seen;
    for (const auto& ip : prev.ips) {
        if (ip.interface) {
            auto i = static_cast<std::size_t>(*ip.interface);
            if (*ip.interface < 0 || i >= prev.interfaces.size() ||
                prev.interfaces[i].name != req.env.ifname || prev.interfaces[i].sandbox.empty()) {
                continue;
            }
        }
        if (seen.insert(ip.address.family()).second) {
            out.push_back(ip.address);
        }
    }
    return out;
}

// The mappings for one container address: entries of the other family (by hostIP) skipped,
// ranges expanded to one mapping per port.
void expand(const PortMapEntry& e, const netlib::IpAddr& container,
            std::vector<netlib::PortMapping>& out) {
    if (e.host_ip && e.host_ip->family() != container.family()) {
        return;
    }
    for (int i = 0; i <= e.host_port_end - e.host_port; ++i) {
        out.push_back({e.proto, e.host_ip, static_cast<std::uint16_t>(e.host_port + i), container,
                       static_cast<std::uint16_t>(e.container_port + i)});
    }
}

netlib::PortmapAttachment attachment(const cni::Request& req, const Config& cfg) {
    netlib::PortmapAttachment a;
    a.owner = {req.conf.name, req.env.container_id, req.env.ifname};
    a.conditions4 = cfg.conditions4;
    a.conditions6 = cfg.conditions6;
    for (const auto& addr : container_addresses(req)) {
        for (const auto& e : cfg.mappings) {
            expand(e, addr.addr(), a.mappings);
        }
        if (cfg.snat && cfg.masq_all) {
            a.masq_all.push_back(addr.addr());
        } else if (cfg.snat) {
            a.hairpin.push_back(addr);
        }
    }
    return a;
}

// A port the same container publishes through another network is left out by portmap_add
// (podman hands a container's mappings to every network it joins); another container's is an
// error.
netlib::PortmapAdded publish(netlib::NftSocket& nft, const netlib::PortmapAttachment& a) {
    try {
        return netlib::portmap_add(nft, a);
    } catch (const netlib::PortConflict& e) {
        throw cni::Error(
            cni::Code::Internal, e.message(),
            "owner: " + e.holder_name() + "; DEL that attachment or publish another port");
    } catch (const netlib::InvalidInput& e) {  // one host port mapped to two container ports, ...
        throw cni::config_error(e.what());
    }
}

// 127.0.0.1 can only be DNATed to a container if the interface routing there accepts
// loopback-sourced packets. Set once, left on (other containers behind it rely on it), as the
// reference does.
void enable_route_localnet(const netlib::IpAddr& container) {
    auto rt = netlib::RouteSocket::open();
    auto oif = netlib::route_output_ifindex(rt, container);
    if (!oif) {
        return;  // no route: nothing from the host can reach the container anyway
    }
    auto link = netlib::find_link(rt, *oif);
    if (!link) {
        return;
    }
    std::string key = "net/ipv4/conf/" + link->name + "/route_localnet";
    if (netlib::try_read_sysctl(key) != "1") {
        netlib::write_sysctl(key, "1");
    }
}

// Stale UDP flows to a newly published port would bypass the DNAT until they time out.
// Failures are reported but not fatal: the mapping works for every new flow.
void flush_udp_conntrack(const std::vector<netlib::PortMapping>& fresh) {
    std::map<netlib::Family, std::set<std::uint16_t>> ports;
    for (const auto& m : fresh) {
        if (m.proto == netlib::L4Proto::Udp) {
            ports[m.family()].insert(m.host_port);
        }
    }
    for (const auto& [family, set] : ports) {
        try {
            netlib::conntrack_delete_by_dport(family, kUdp, set);
        } catch (const std::exception& e) {
            cni::warn(std::string{"portmap: could not delete stale UDP conntrack entries: "} +
                      e.what());
        }
    }
}

std::optional<netlib::IpAddr> container_v4(const std::vector<netlib::PortMapping>& mappings) {
    for (const auto& m : mappings) {
        if (m.family() == netlib::Family::V4) {
            return m.container_addr;
        }
    }
    return std::nullopt;
}

}  // namespace

cni::Result add(const cni::Request& req) {
    Config cfg = Config::parse(req);
    if (!req.conf.prev_result) {
        throw cni::config_error(
            "portmap must be called as a chained plugin: prevResult is missing");
    }
    auto a = attachment(req, cfg);
    if (a.mappings.empty()) {
        return *req.conf.prev_result;
    }
    cni::Rollback undo;
    auto nft = plugin::needs_nftables("\"portMappings\"", [] { return netlib::NftSocket{}; });
    auto added = publish(nft, a);
    // portmap_del removes only this owner's elements: the ports left out stay where they are.
    undo.add([&nft, &a] { netlib::portmap_del(nft, a); });
    if (auto v4 = container_v4(added.published); cfg.snat && v4) {
        enable_route_localnet(*v4);
    }
    flush_udp_conntrack(added.fresh);
    undo.commit();
    return *req.conf.prev_result;
}

void del(const cni::Request& req) {
    Config cfg = Config::parse(req);
    auto a = attachment(req, cfg);
    // A kernel without nftables holds no mapping of ours.
    auto nft = netlib::NftSocket::if_kernel_has_nftables();
    if (!nft) {
        return;
    }
    // Without prevResult or portMappings the keys are unknown: portmap_del then finds the
    // attachment's elements by their owner tag.
    netlib::portmap_del(*nft, a);
}

void check(const cni::Request& req) {
    Config cfg = Config::parse(req);
    if (!req.conf.prev_result) {
        throw cni::config_error("Required prevResult missing");
    }
    auto a = attachment(req, cfg);
    if (a.mappings.empty()) {
        return;
    }
    netlib::NftSocket nft;
    auto problems = netlib::portmap_check(nft, a);
    if (!problems.empty()) {
        std::string details;
        for (const auto& p : problems) {
            details += (details.empty() ? "" : "; ") + p;
        }
        throw cni::Error(cni::Code::Internal, "CHECK failed: " + problems.front(), details);
    }
}

void gc(const cni::Request& req) {
    (void)Config::parse(req);
    auto valid = cni::ValidAttachments::parse(req.config);
    if (!valid) {
        return;  // without a list nothing is known to be stale
    }
    if (auto nft = netlib::NftSocket::if_kernel_has_nftables()) {
        netlib::portmap_gc(*nft, req.conf.name, valid->pairs());
    }
}

void status(const cni::Request& req) {
    (void)Config::parse(req);
}

}  // namespace portmap
