#include "plugins/common/container_iface.hpp"

#include <algorithm>
#include <optional>

#include "netlib/addr.hpp"
#include "netlib/error.hpp"
#include "netlib/route.hpp"
#include "netlib/sysctl.hpp"
#include "plugins/cni/error.hpp"

namespace plugin {
namespace {

std::string conf_key(const std::string& ifname, netlib::Family f, const char* key) {
    return std::string{f == netlib::Family::V4 ? "net/ipv4/conf/" : "net/ipv6/conf/"} + ifname +
           "/" + key;
}

// The IPv6 settings have no netlink setter; /proc/sys/net shows the netns of the process that
// opens it, hence the guard.
void container_sysctls(const netlib::Netns& netns, const std::string& ifname,
                       const IfaceOptions& opts, const cni::Result& ipam) {
    const bool v6 = has_family(ipam, netlib::Family::V6);
    if (!v6 && !opts.arp_notify) {
        return;
    }
    netlib::NetnsGuard in{netns};
    if (opts.arp_notify) {
        ensure_sysctl(conf_key(ifname, netlib::Family::V4, "arp_notify"), "1");
    }
    if (v6) {
        ensure_sysctl(conf_key("lo", netlib::Family::V6, "disable_ipv6"), "0");
        ensure_sysctl(conf_key(ifname, netlib::Family::V6, "disable_ipv6"), "0");
        netlib::write_sysctl(conf_key(ifname, netlib::Family::V6, "accept_dad"),
                             opts.enable_dad ? "1" : "0");
        if (opts.arp_notify) {
            ensure_sysctl(conf_key(ifname, netlib::Family::V6, "ndisc_notify"), "1");
        }
        if (opts.enable_dad) {
            netlib::write_sysctl(conf_key(ifname, netlib::Family::V6, "enhanced_dad"), "1");
        }
    }
}

std::optional<netlib::IpAddr> family_gateway(const cni::Result& r, netlib::Family f) {
    for (const auto& ip : r.ips) {
        if (ip.address.family() == f && ip.gateway) {
            return ip.gateway;
        }
    }
    return std::nullopt;
}

bool has_default_route(const cni::Result& r, netlib::Family f) {
    return std::any_of(r.routes.begin(), r.routes.end(), [f](const cni::Route& route) {
        return route.dst.family() == f && route.dst.prefix() == 0;
    });
}

// A default route via the gateway for each family, unless IPAM gave one.
void add_default_routes(cni::Result& ipam) {
    for (auto f : {netlib::Family::V4, netlib::Family::V6}) {
        auto gw = family_gateway(ipam, f);
        if (gw && !has_default_route(ipam, f)) {
            cni::Route r;
            r.dst = netlib::IpNet{f == netlib::Family::V4 ? netlib::IpAddr::parse("0.0.0.0")
                                                          : netlib::IpAddr::parse("::"),
                                  0};
            r.gw = gw;
            ipam.routes.push_back(r);
        }
    }
}

netlib::RouteSpec route_spec(const cni::Route& r, const cni::Result& ipam, int ifindex) {
    netlib::RouteSpec spec;
    spec.dst = r.dst;
    spec.gw = r.gw ? r.gw : family_gateway(ipam, r.dst.family());
    spec.ifindex = ifindex;
    spec.metric = r.priority;
    spec.table = r.table;
    spec.scope = r.scope;
    if (r.mtu) {
        spec.mtu = static_cast<unsigned>(*r.mtu);
    }
    if (r.advmss) {
        spec.advmss = static_cast<unsigned>(*r.advmss);
    }
    return spec;
}

}  // namespace

netlib::Netns open_container_netns(const std::string& path) {
    try {
        return netlib::Netns::open(path);
    } catch (const netlib::Error& e) {
        throw cni::Error(cni::Code::Internal, "failed to open netns \"" + path + "\"", e.what());
    }
}

const cni::Result& require_prev_result(const cni::Request& req, std::string_view hint) {
    if (!req.conf.prev_result) {
        throw cni::Error(cni::Code::InvalidConfig, "Required prevResult missing",
                         std::string{hint});
    }
    return *req.conf.prev_result;
}

bool has_family(const cni::Result& r, netlib::Family f) {
    return std::any_of(r.ips.begin(), r.ips.end(),
                       [f](const cni::IpConfig& ip) { return ip.address.family() == f; });
}

void ensure_sysctl(const std::string& key, std::string_view value) {
    if (netlib::try_read_sysctl(key) != value) {
        netlib::write_sysctl(key, value);
    }
}

void configure_container_iface(netlib::RouteSocket& ctr, const netlib::Netns& netns,
                               const std::string& ifname, int ifindex, const IfaceOptions& opts,
                               cni::Result& ipam) {
    container_sysctls(netns, ifname, opts, ipam);
    for (const auto& ip : ipam.ips) {
        netlib::add_address(ctr, ifindex, ip.address, {!opts.enable_dad, false});
    }
    if (opts.is_default_gateway) {
        add_default_routes(ipam);
    }
    // Appended, not exclusive: the container may already have a default route through an
    // interface of another network (podman network connect), as the reference allows.
    for (const auto& r : ipam.routes) {
        netlib::append_route(ctr, route_spec(r, ipam, ifindex));
    }
}

const cni::Interface* prev_container_iface(const cni::Result& prev, const cni::Request& req) {
    for (const auto& i : prev.interfaces) {
        if (i.name == req.env.ifname && i.sandbox == req.env.netns) {
            return &i;
        }
    }
    return nullptr;
}

void check_failed(const std::string& what) {
    throw cni::Error(cni::Code::Internal, "CHECK failed: " + what);
}

void check_container_addresses(netlib::RouteSocket& ctr, const cni::Result& prev, int ifindex) {
    auto have = netlib::list_addresses(ctr, ifindex, std::nullopt);
    for (const auto& ip : prev.ips) {
        if (std::find(have.begin(), have.end(), ip.address) == have.end()) {
            check_failed("address " + ip.address.to_string() + " is missing");
        }
    }
}

void check_container_routes(netlib::RouteSocket& ctr, const cni::Result& prev) {
    auto have = netlib::list_routes(ctr, std::nullopt, std::nullopt);
    for (const auto& want : prev.routes) {
        bool found = std::any_of(have.begin(), have.end(), [&](const netlib::RouteSpec& r) {
            return r.dst == want.dst && (!want.gw || r.gw == want.gw);
        });
        if (!found) {
            check_failed("route to " + want.dst.to_string() + " is missing");
        }
    }
}

}  // namespace plugin
