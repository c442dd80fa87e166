// The macvlan plugin: a macvlan of a host interface (`master`) as the container's interface,
// with the reference's keys (containernetworking/plugins plugins/main/macvlan).
#include <optional>
#include <string>

#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/cni/rollback.hpp"
#include "plugins/cni/skel.hpp"
#include "plugins/common/container_iface.hpp"
#include "plugins/common/ipam_client.hpp"
#include "plugins/common/link_config.hpp"

namespace {

namespace ju = cni::json_util;

struct Config {
    std::string mode = "bridge";
    std::optional<unsigned> mtu;
    bool link_in_container = false;
    bool has_ipam = false;
};

Config parse_config(const cni::Request& req) {
    Config c;
    if (auto mode = ju::get_string(req.config, "mode"); mode && !mode->empty()) {
        if (*mode != "bridge" && *mode != "private" && *mode != "vepa" && *mode != "passthru" &&
            *mode != "source") {
            throw cni::config_error("invalid \"mode\" \"" + *mode +
                                    "\": must be bridge, private, vepa, passthru or source");
        }
        c.mode = *mode;
    }
    c.mtu = plugin::parse_mtu(req);
    c.link_in_container = ju::get_bool(req.config, "linkInContainer").value_or(false);
    c.has_ipam = !req.conf.ipam_type.empty();
    return c;
}

// Where the master lives: the host's netns, or the container's with linkInContainer.
netlib::RouteSocket& master_sock(const Config& cfg, netlib::RouteSocket& host,
                                 netlib::RouteSocket& ctr) {
    return cfg.link_in_container ? ctr : host;
}

// Created straight in the container under a temporary name, then renamed: CNI_IFNAME may be
// taken in the host netns (eth0), where the kernel would refuse it on creation.
netlib::LinkInfo create_link(netlib::RouteSocket& parent_sock, netlib::RouteSocket& ctr,
                             const netlib::Netns& netns, const cni::Request& req, const Config& cfg,
                             int master, cni::Rollback& undo) {
    if (netlib::find_link(ctr, req.env.ifname)) {
        throw cni::Error(cni::Code::Internal,
                         "interface \"" + req.env.ifname + "\" already exists in " + req.env.netns);
    }
    netlib::MacvlanSpec spec{netlib::random_veth_name(), master, cfg.mode, cfg.mtu,
                             plugin::requested_mac(req), &netns, false};
    if (&parent_sock == &ctr) {
        spec.netns = nullptr;  // linkInContainer: created where its master is
    }
    netlib::LinkInfo link = netlib::create_macvlan(parent_sock, spec);
    undo.add([&ctr, index = link.index] { (void)netlib::remove_link(ctr, index); });
    netlib::set_name(ctr, link.index, req.env.ifname);
    link.name = req.env.ifname;
    netlib::set_up(ctr, link.index, true);
    return link;
}

cni::Result make_result(const cni::Request& req, cni::Result ipam, const netlib::LinkInfo& link) {
    cni::Result r;
    r.interfaces = {
        {req.env.ifname, link.mac.to_string(), static_cast<int>(link.mtu), req.env.netns, {}, {}}};
    r.ips = std::move(ipam.ips);
    for (auto& ip : r.ips) {
        ip.interface = 0;
    }
    r.routes = std::move(ipam.routes);
    r.dns = req.conf.dns && !req.conf.dns->empty() ? *req.conf.dns : ipam.dns;
    return r;
}

cni::Result add(const cni::Request& req) {
    Config cfg = parse_config(req);
    std::optional<plugin::PendingIpamAdd> pending;
    if (cfg.has_ipam) {
        pending.emplace(req);
    }
    netlib::Netns netns = plugin::open_container_netns(req.env.netns);
    auto host = netlib::RouteSocket::open();
    auto ctr = netlib::RouteSocket::open_in(netns);
    auto& parent_sock = master_sock(cfg, host, ctr);
    auto master = plugin::find_master(parent_sock, plugin::master_name(req, parent_sock), cfg.mtu);
    // Declared before `undo`: addresses are released only once the link holding them is gone.
    cni::Rollback release;
    cni::Rollback undo;
    netlib::LinkInfo link = create_link(parent_sock, ctr, netns, req, cfg, master.index, undo);
    cni::Result ipam;
    if (pending) {
        ipam = pending->take(release);
        if (ipam.ips.empty()) {
            throw cni::Error(cni::Code::Internal, "IPAM plugin returned no IP addresses");
        }
        plugin::IfaceOptions opts;
        opts.arp_notify = true;
        plugin::configure_container_iface(ctr, netns, req.env.ifname, link.index, opts, ipam);
    }
    undo.commit();
    release.commit();
    return make_result(req, std::move(ipam), link);
}

// As the reference: IPAM first, then the link if the netns still exists. A netns that is gone
// took the macvlan with it.
// Reads no key but `ipam`: DEL never fails on a value only ADD needs.
void del(const cni::Request& req) {
    plugin::BestEffort steps;
    if (!req.conf.ipam_type.empty()) {
        steps.run([&] { plugin::ipam_del(req); });
    }
    steps.run([&] {
        if (req.env.netns.empty()) {
            return;
        }
        if (auto netns = netlib::Netns::try_open(req.env.netns)) {
            auto ctr = netlib::RouteSocket::open_in(*netns);
            (void)netlib::remove_link(ctr, req.env.ifname);
        }
    });
    steps.finish();
}

void check_link(const cni::Request& req, const Config& cfg, const netlib::LinkInfo& link,
                const netlib::LinkInfo& master, const cni::Interface& want) {
    if (link.kind != "macvlan") {
        plugin::check_failed("interface \"" + req.env.ifname + "\" is not a macvlan");
    }
    if (link.mode != cfg.mode) {
        plugin::check_failed("interface \"" + req.env.ifname + "\" has mode " + link.mode +
                             ", the configuration says " + cfg.mode);
    }
    if (link.peer_index != master.index) {
        plugin::check_failed("interface \"" + req.env.ifname + "\" is not on master \"" +
                             master.name + "\"");
    }
    if (!want.mac.empty() && link.mac.to_string() != want.mac) {
        plugin::check_failed("interface \"" + req.env.ifname + "\" has MAC " +
                             link.mac.to_string() + ", expected " + want.mac);
    }
}

void check(const cni::Request& req) {
    Config cfg = parse_config(req);
    const cni::Result& prev = plugin::require_prev_result(req);
    if (cfg.has_ipam) {
        plugin::ipam_check(req);
    }
    const cni::Interface* want = plugin::prev_container_iface(prev, req);
    if (want == nullptr) {
        plugin::check_failed("prevResult names no interface \"" + req.env.ifname + "\" in " +
                             req.env.netns);
    }
    auto netns = plugin::open_container_netns(req.env.netns);
    auto host = netlib::RouteSocket::open();
    auto ctr = netlib::RouteSocket::open_in(netns);
    auto& parent_sock = master_sock(cfg, host, ctr);
    auto master = plugin::find_master(parent_sock, plugin::master_name(req, parent_sock), cfg.mtu);
    auto link = netlib::find_link(ctr, req.env.ifname);
    if (!link) {
        plugin::check_failed("interface \"" + req.env.ifname + "\" not found in " + req.env.netns);
    }
    check_link(req, cfg, *link, master, *want);
    plugin::check_container_addresses(ctr, prev, link->index);
    plugin::check_container_routes(ctr, prev);
}

void gc(const cni::Request& req) {
    if (parse_config(req).has_ipam) {
        plugin::ipam_gc(req);
    }
}

void status(const cni::Request& req) {
    if (parse_config(req).has_ipam) {
        plugin::ipam_status(req);
    }
}

}  // namespace

int main() {
    return cni::main({"macvlan", add, del, check, gc, status});
}
