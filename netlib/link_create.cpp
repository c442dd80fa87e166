// Creating links: bridges, veth pairs, macvlans, ipvlans, VLANs.

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <sys/random.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/ipvlan.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vlan.h>

#include "netlib/bridge_vlan.hpp"
#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/link_internal.hpp"
#include "netlib/netns.hpp"

namespace netlib {
namespace {

constexpr const char* kNewLink = "RTM_NEWLINK";

LinkInfo must_find(RouteSocket& sock, const std::string& name) {
    if (auto info = find_link(sock, name)) {
        return *info;
    }
    // Created a moment ago: someone else removed it in between.
    throw Error(ENODEV, "RTM_GETLINK", name, "link vanished right after it was created");
}

// Sends `link` as a new link with NLM_F_CREATE|NLM_F_EXCL (plus `flags`); returns 0 or the
// errno. `on_reply` sees what the kernel sends before the ack (NLM_F_ECHO).
int try_add(RouteSocket& sock, rtnl_link* link, const std::string& object, int flags = 0,
            const detail::MsgHandler& on_reply = {}) {
    nl_msg* raw = nullptr;
    int rc = rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL | flags, &raw);
    return detail::try_send_built(sock, rc, raw, kNewLink, object, on_reply);
}

// add() that returns the new link. With NLM_F_ECHO, kernels >= 6.3 send it back before the ack,
// which saves the lookup that would follow (a GETLINK of a fresh bridge port also runs its
// pending link-watch work). Older kernels ignore the flag; then the link is looked up by name.
LinkInfo add_and_describe(RouteSocket& sock, rtnl_link* link, const std::string& name,
                          const std::string& object) {
    std::optional<LinkInfo> echoed;
    if (int err = try_add(sock, link, object, NLM_F_ECHO, detail::link_collector(echoed));
        err != 0) {
        detail::fail(sock, err, kNewLink, object);
    }
    return echoed ? *echoed : must_find(sock, name);
}

void add(RouteSocket& sock, rtnl_link* link, const std::string& object) {
    if (int err = try_add(sock, link, object); err != 0) {
        detail::fail(sock, err, kNewLink, object);
    }
}

void set_common(rtnl_link* link, const std::string& name, std::optional<unsigned> mtu,
                const std::optional<MacAddr>& mac, bool up) {
    rtnl_link_set_name(link, name.c_str());
    if (mtu) {
        rtnl_link_set_mtu(link, *mtu);
    }
    if (mac) {
        rtnl_link_set_addr(link, detail::mac_nl_addr(*mac).get());  // libnl takes a reference
    }
    if (up) {
        rtnl_link_set_flags(link, IFF_UP);
    }
}

// The bridge is already there (another caller, or an earlier ADD): adopt it if it is a bridge.
LinkInfo adopt_bridge(RouteSocket& sock, const BridgeSpec& spec, LinkInfo info) {
    if (info.kind != "bridge") {
        throw Error(EEXIST, kNewLink, spec.name,
                    "exists and is not a bridge (kind \"" + info.kind + "\")");
    }
    if (spec.promisc && !info.promisc) {
        set_promisc(sock, info.index, true);
        info.promisc = true;
    }
    if (!info.up) {
        set_up(sock, info.index, true);
        info.up = true;
    }
    return info;
}

// VLAN filtering for a bridge just created: a second request (libnl 3.7 cannot put
// IFLA_BR_VLAN_FILTERING in the creating one). Where the kernel refuses, the new bridge goes.
void filter_vlans_or_remove(RouteSocket& sock, const LinkInfo& bridge) {
    try {
        enable_vlan_filtering(sock, bridge.index);
    } catch (...) {
        (void)remove_link(sock, bridge.index);
        throw;
    }
}

// The host end's IFLA_LINK is the peer's index in the peer's namespace. arp_notify travels in
// the same request (IFLA_AF_SPEC/AF_INET/IFLA_INET_CONF) instead of a /proc/sys write: looking
// up /proc/sys/net/ipv4/conf/<name> walks one cached dentry per network namespace that ever
// used that name, and every container's interface is called eth0.
void bring_peer_up(RouteSocket& sock, const VethSpec& spec, int peer_index) {
    detail::LinkPtr changes = detail::new_link();
    rtnl_link_set_flags(changes.get(), IFF_UP);
    if (spec.peer_arp_notify) {
        if (int rc = rtnl_link_inet_set_conf(changes.get(), IPV4_DEVCONF_ARP_NOTIFY, 1); rc < 0) {
            throw Error(EINVAL, "RTM_NEWLINK", spec.peer_name, nl_geterror(rc));
        }
    }
    if (spec.peer_netns == nullptr) {
        detail::change_link(sock, peer_index, changes.get());
    } else if (spec.peer_sock != nullptr) {
        detail::change_link(*spec.peer_sock, peer_index, changes.get());
    } else {
        RouteSocket there = RouteSocket::open_in(*spec.peer_netns);
        detail::change_link(there, peer_index, changes.get());
    }
}

// The host end's settings, in one RTM_NEWLINK before the peer comes up:
// - IN6_ADDR_GEN_MODE_NONE (!host_link_local): the link-local address is generated when the
//   carrier comes up, which needs both ends up, so it never is;
// - bridge port flags as IFLA_INFO_SLAVE_DATA, which the kernel applies to an existing port (the
//   creating request ignores them), as `ip link set ... type bridge_slave` does.
// A kernel without IPv6 refuses the whole request (EAFNOSUPPORT) before changing anything; it has
// no link-local address to suppress, so the request is sent again without it.
int try_prepare_host_end(RouteSocket& sock, int index, bool no_link_local,
                         const BridgePortFlags& port) {
    ifinfomsg hdr{};
    hdr.ifi_family = AF_UNSPEC;
    hdr.ifi_index = index;
    detail::MsgPtr msg = detail::new_msg(RTM_NEWLINK, 0, hdr);
    if (no_link_local) {
        nlattr* af = detail::nest_start(msg.get(), IFLA_AF_SPEC);
        nlattr* inet6 = detail::nest_start(msg.get(), AF_INET6);
        detail::put_u8(msg.get(), IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
        detail::nest_end(msg.get(), inet6);
        detail::nest_end(msg.get(), af);
    }
    if (detail::any_port_flag(port)) {
        nlattr* info = detail::nest_start(msg.get(), IFLA_LINKINFO);
        static constexpr char kBridge[] = "bridge";
        detail::put(msg.get(), IFLA_INFO_SLAVE_KIND, kBridge, sizeof kBridge);
        nlattr* data = detail::nest_start(msg.get(), IFLA_INFO_SLAVE_DATA);
        detail::put_port_flags(msg.get(), port);
        detail::nest_end(msg.get(), data);
        detail::nest_end(msg.get(), info);
    }
    return detail::try_request(sock, msg.get());
}

void prepare_host_end(RouteSocket& sock, const VethSpec& spec, int index) {
    BridgePortFlags port = spec.master != 0 ? spec.port_flags : BridgePortFlags{};
    bool no_link_local = !spec.host_link_local;
    bool port_flags = detail::any_port_flag(port);
    if (!no_link_local && !port_flags) {
        return;
    }
    int err = try_prepare_host_end(sock, index, no_link_local, port);
    if (err == EAFNOSUPPORT && no_link_local) {
        err = port_flags ? try_prepare_host_end(sock, index, false, port) : 0;
    }
    if (err != 0) {
        std::string ack = sock.impl().last_ack;
        throw Error(err, "RTM_NEWLINK", spec.host_name, ack);
    }
}

}  // namespace

LinkInfo ensure_bridge(RouteSocket& sock, const BridgeSpec& spec) {
    detail::LinkPtr link = detail::new_link();
    if (int rc = rtnl_link_set_type(link.get(), "bridge"); rc < 0) {
        throw Error(EOPNOTSUPP, kNewLink, spec.name, nl_geterror(rc));
    }
    set_common(link.get(), spec.name, spec.mtu, spec.mac, true);
    if (spec.promisc) {
        rtnl_link_set_flags(link.get(), IFF_PROMISC);
    }
    // Create-or-adopt, retried because a concurrent DEL may remove the bridge between our
    // EEXIST and the lookup.
    for (int attempt = 0; attempt < 3; ++attempt) {
        int err = try_add(sock, link.get(), spec.name);
        if (err != 0 && err != EEXIST) {
            detail::fail(sock, err, kNewLink, spec.name);
        }
        if (auto info = find_link(sock, spec.name)) {
            if (err == 0 && spec.vlan_filtering) {
                filter_vlans_or_remove(sock, *info);
            }
            return err == 0 ? *info : adopt_bridge(sock, spec, *info);
        }
    }
    throw Error(EAGAIN, kNewLink, spec.name, "bridge keeps disappearing while being created");
}

LinkInfo create_veth(RouteSocket& sock, const VethSpec& spec) {
    detail::LinkPtr host{rtnl_link_veth_alloc()};
    if (!host) {
        throw std::bad_alloc();
    }
    // Our own reference on the peer; host's destructor drops the pair's internal one.
    detail::LinkPtr peer{rtnl_link_veth_get_peer(host.get())};
    set_common(host.get(), spec.host_name, spec.mtu, std::nullopt, spec.up);
    // Not IFF_UP here: veth_newlink configures the peer before the pair is linked, so opening
    // it then fails with ENOTCONN (the whole RTM_NEWLINK fails). See bring_peer_up().
    set_common(peer.get(), spec.peer_name, spec.mtu, spec.peer_mac, false);
    // One queue each, asked for explicitly: a veth is allocated with a queue per CPU, and
    // without IFLA_NUM_{TX,RX}_QUEUES the kernel trims each end back to one after registering
    // it, which waits for an expedited RCU grace period per end (~0.5 ms each, most of the cost
    // of creating the pair). One queue is what the kernel would have left in use anyway.
    for (rtnl_link* end : {host.get(), peer.get()}) {
        rtnl_link_set_num_tx_queues(end, 1);
        rtnl_link_set_num_rx_queues(end, 1);
    }
    if (spec.master != 0) {
        rtnl_link_set_master(host.get(), spec.master);
    }
    if (spec.peer_netns != nullptr) {
        // The kernel creates the peer straight inside the container: it never appears on the
        // host, so there is no window in which a host-side name clash or a move can fail.
        rtnl_link_set_ns_fd(peer.get(), spec.peer_netns->fd());
    }
    LinkInfo info = add_and_describe(sock, host.get(), spec.host_name,
                                     spec.host_name + " (peer " + spec.peer_name + ")");
    info.master = spec.master;  // the echo precedes the enslaving
    try {
        prepare_host_end(sock, spec, info.index);
        if (spec.up) {
            bring_peer_up(sock, spec, info.peer_index);
        }
    } catch (...) {
        try {
            (void)remove_link(sock, info.index);  // takes the peer with it
        } catch (const Error&) {
            // Report the original failure, not the cleanup's.
        }
        throw;
    }
    return info;
}

std::string random_veth_name() {
    std::array<unsigned char, 4> bytes{};
    std::size_t got = 0;
    while (got < bytes.size()) {
        ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(errno, "getrandom", "veth name");
        }
        got += static_cast<std::size_t>(n);
    }
    char name[16];
    std::snprintf(name, sizeof name, "veth%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2],
                  bytes[3]);
    return name;
}

namespace {

// The link just created in `netns` (nullptr: sock's). No NLM_F_ECHO: the kernel sends the echo
// of a link created in another namespace through that namespace's socket table, not to us.
LinkInfo find_created(RouteSocket& sock, const std::string& name, const Netns* netns,
                      RouteSocket* netns_sock) {
    if (netns == nullptr) {
        return must_find(sock, name);
    }
    if (netns_sock != nullptr) {
        return must_find(*netns_sock, name);
    }
    RouteSocket there = RouteSocket::open_in(*netns);
    return must_find(there, name);
}

// Sends a link of a master (macvlan, ipvlan, vlan) created in `netns` (nullptr: sock's) and
// returns it as seen there. IFLA_LINK names the master in sock's namespace.
LinkInfo add_child_link(RouteSocket& sock, rtnl_link* link, int master, const std::string& name,
                        const Netns* netns, RouteSocket* netns_sock) {
    rtnl_link_set_link(link, master);
    if (netns != nullptr) {
        rtnl_link_set_ns_fd(link, netns->fd());
    }
    add(sock, link, name);
    return find_created(sock, name, netns, netns_sock);
}

detail::LinkPtr checked(rtnl_link* link) {
    if (link == nullptr) {
        throw std::bad_alloc();
    }
    return detail::LinkPtr{link};
}

}  // namespace

LinkInfo create_macvlan(RouteSocket& sock, const MacvlanSpec& spec) {
    static constexpr std::array<std::string_view, 5> kModes = {"bridge", "private", "vepa",
                                                               "passthru", "source"};
    if (std::find(kModes.begin(), kModes.end(), spec.mode) == kModes.end()) {
        throw InvalidInput("unknown macvlan mode \"" + spec.mode + "\"");
    }
    detail::LinkPtr link = checked(rtnl_link_macvlan_alloc());
    set_common(link.get(), spec.name, spec.mtu, spec.mac, spec.up);
    rtnl_link_macvlan_set_mode(
        link.get(), static_cast<uint32_t>(rtnl_link_macvlan_str2mode(spec.mode.c_str())));
    return add_child_link(sock, link.get(), spec.master, spec.name, spec.netns, spec.netns_sock);
}

// Built by hand: libnl has no setter for IFLA_IPVLAN_FLAGS.
LinkInfo create_ipvlan(RouteSocket& sock, const IpvlanSpec& spec) {
    int mode = rtnl_link_ipvlan_str2mode(spec.mode.c_str());
    if (mode < 0) {
        throw InvalidInput("unknown ipvlan mode \"" + spec.mode + "\"");
    }
    std::uint16_t flags = 0;
    if (spec.flag == "private") {
        flags = IPVLAN_F_PRIVATE;
    } else if (spec.flag == "vepa") {
        flags = IPVLAN_F_VEPA;
    } else if (spec.flag != "bridge") {
        throw InvalidInput("unknown ipvlan flag \"" + spec.flag + "\"");
    }
    ifinfomsg hdr{};
    hdr.ifi_family = AF_UNSPEC;
    if (spec.up) {
        hdr.ifi_flags = IFF_UP;
        hdr.ifi_change = IFF_UP;
    }
    detail::MsgPtr msg = detail::new_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, hdr);
    nl_msg* m = msg.get();
    // Strings with their NUL, u16 as the kernel's policy wants them.
    auto put_string = [m](int type, const std::string& v) {
        detail::put(m, type, v.c_str(), v.size() + 1);
    };
    auto put_u16 = [m](int type, std::uint16_t v) { detail::put(m, type, &v, sizeof v); };
    put_string(IFLA_IFNAME, spec.name);
    detail::put_u32(m, IFLA_LINK, static_cast<std::uint32_t>(spec.master));
    if (spec.mtu) {
        detail::put_u32(m, IFLA_MTU, *spec.mtu);
    }
    if (spec.netns != nullptr) {
        detail::put_u32(m, IFLA_NET_NS_FD, static_cast<std::uint32_t>(spec.netns->fd()));
    }
    nlattr* info = detail::nest_start(m, IFLA_LINKINFO);
    put_string(IFLA_INFO_KIND, "ipvlan");
    nlattr* data = detail::nest_start(m, IFLA_INFO_DATA);
    put_u16(IFLA_IPVLAN_MODE, static_cast<std::uint16_t>(mode));
    put_u16(IFLA_IPVLAN_FLAGS, flags);
    detail::nest_end(m, data);
    detail::nest_end(m, info);
    detail::request(sock, m, kNewLink, spec.name);
    return find_created(sock, spec.name, spec.netns, spec.netns_sock);
}

LinkInfo create_vlan(RouteSocket& sock, const VlanSpec& spec) {
    if (spec.id < 1 || spec.id > 4094) {
        throw InvalidInput("VLAN id " + std::to_string(spec.id) + " is not in 1..4094");
    }
    detail::LinkPtr link = checked(rtnl_link_vlan_alloc());
    set_common(link.get(), spec.name, spec.mtu, std::nullopt, spec.up);
    rtnl_link_vlan_set_id(link.get(), static_cast<std::uint16_t>(spec.id));
    return add_child_link(sock, link.get(), spec.master, spec.name, spec.netns, spec.netns_sock);
}

}  // namespace netlib
