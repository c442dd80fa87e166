#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netlib/ip.hpp"

namespace netlib {

class Netns;
class RouteSocket;

// Every function here acts in the network namespace of `sock` (see RouteSocket) and throws
// netlib::Error whose what() names the netlink operation and the link, e.g.
// "RTM_NEWLINK veth1a2b: File exists (<kernel's extended ack>)". A link that does not exist is
// a value (nullopt / false) for lookups and removals, an Error (ENODEV) for changes.

struct LinkInfo {
    int index = 0;
    std::string name;
    std::string kind;  // IFLA_INFO_KIND: "veth", "bridge", "macvlan", ...; "" for lo or a NIC
    MacAddr mac;       // zero when the link has no 6-byte hardware address
    unsigned mtu = 0;
    bool up = false;       // IFF_UP: administratively up
    bool oper_up = false;  // operstate UP, or UNKNOWN with IFF_RUNNING (lo, some drivers)
    int master = 0;        // IFLA_MASTER ifindex, 0 for none
    int peer_index = 0;  // IFLA_LINK: a veth's peer (index in the peer's netns), a macvlan's parent
    bool promisc = false;     // promiscuous mode requested by the user (not a bridge port's own)
    unsigned txqlen = 0;      // IFLA_TXQLEN
    bool allmulti = false;    // IFF_ALLMULTI
    std::string alias;        // IFLA_IFALIAS, "" when unset
    std::string mode;         // a macvlan's or ipvlan's mode ("bridge", "vepa", "l2", ...); else ""
    unsigned vlan_id = 0;     // a vlan link's IFLA_VLAN_ID; else 0
    std::string ipvlan_flag;  // an ipvlan's IFLA_IPVLAN_FLAGS: "bridge", "private", "vepa"
    // A tun/tap device's owner and group (IFLA_TUN_OWNER/GROUP); nullopt when unset.
    std::optional<unsigned> tun_owner;
    std::optional<unsigned> tun_group;
};

// One RTM_GETLINK request (never a dump). nullopt when no such link exists.
[[nodiscard]] std::optional<LinkInfo> find_link(RouteSocket& sock, std::string_view name);
[[nodiscard]] std::optional<LinkInfo> find_link(RouteSocket& sock, int index);
// A full RTM_GETLINK dump, retried when interrupted. Not for hot paths.
[[nodiscard]] std::vector<LinkInfo> list_links(RouteSocket& sock);

struct BridgeSpec {
    std::string name;
    std::optional<unsigned> mtu;
    bool promisc = false;
    std::optional<MacAddr> mac;
    // VLAN filtering on, for a bridge this call creates (an adopted one keeps its setting, as
    // the reference plugin does). A kernel without it: Error(EOPNOTSUPP) and no bridge left.
    bool vlan_filtering = false;
};

// Creates the bridge (NLM_F_CREATE|NLM_F_EXCL) and sets it up. If the name exists and is a
// bridge, that bridge is used (set up, and promisc if asked): concurrent callers all succeed.
// An adopted bridge keeps its MTU and MAC (as the reference). If the name exists and is not a
// bridge: Error(EEXIST, ..., "exists and is not a bridge").
[[nodiscard]] LinkInfo ensure_bridge(RouteSocket& sock, const BridgeSpec& spec);

// Bridge port (IFLA_BRPORT_*) settings; unset fields are left as they are.
struct BridgePortFlags {
    std::optional<bool> hairpin;  // IFLA_BRPORT_MODE
    std::optional<bool> isolated;
    std::optional<bool> learning;
    std::optional<bool> unicast_flood;
    std::optional<bool> neigh_suppress;
};

struct VethSpec {
    std::string host_name;
    std::string peer_name;
    const Netns* peer_netns = nullptr;  // nullptr: the peer stays in sock's namespace
    std::optional<unsigned> mtu;        // both ends
    std::optional<MacAddr> peer_mac;
    int master = 0;  // enslave the host end (0: none)
    bool up = true;  // both ends
    // Optional: a socket already open in peer_netns (a plugin usually has one), used to bring the
    // peer up; without it create_veth opens one there (two setns calls on this thread).
    RouteSocket* peer_sock = nullptr;
    // net.ipv4.conf.<peer>.arp_notify = 1, set over netlink together with the peer's IFF_UP
    // (only when `up`).
    bool peer_arp_notify = false;
    // false: the host end gets no IPv6 link-local address (IN6_ADDR_GEN_MODE_NONE, set before the
    // peer comes up). A bridge port has no use for one, and without it the kernel neither runs
    // DAD for it nor sends its MLD reports, which the bridge floods to every other port.
    bool host_link_local = true;
    // Bridge port settings of the host end (with `master`), sent together with the link-local
    // suppression in one request before the peer comes up.
    BridgePortFlags port_flags{};
};

// One RTM_NEWLINK creates the pair: the host end in sock's namespace (enslaved to `master`, up),
// the peer directly inside `peer_netns` (IFLA_NET_NS_FD in the peer's info) with its MAC and MTU.
// The peer is brought up by a second request in its namespace: the kernel cannot open a veth
// peer inside the creating request (6.x answers ENOTCONN). If that fails the pair is removed.
// EEXIST if either name is taken in its namespace. Returns the host end.
[[nodiscard]] LinkInfo create_veth(RouteSocket& sock, const VethSpec& spec);
// "veth" + 8 random hex digits (getrandom), for host ends.
[[nodiscard]] std::string random_veth_name();

struct MacvlanSpec {
    std::string name;
    int master = 0;               // parent link, in sock's namespace
    std::string mode = "bridge";  // "bridge", "private", "vepa", "passthru", "source"
    std::optional<unsigned> mtu;
    std::optional<MacAddr> mac;
    const Netns* netns = nullptr;  // create directly inside this namespace (nullptr: sock's)
    bool up = false;
    RouteSocket* netns_sock = nullptr;  // open in `netns`: the lookup after creation uses it
};

// Creates a macvlan on `master`, directly in `spec.netns`; IFF_UP (spec.up) is applied by the
// creating request. Kernels since 6.x check the name in spec.netns only; older ones also in
// sock's namespace (EEXIST). Returns the new link as seen in its namespace (looked up through
// spec.netns_sock, or a socket opened there). Throws InvalidInput for an unknown mode.
[[nodiscard]] LinkInfo create_macvlan(RouteSocket& sock, const MacvlanSpec& spec);

struct IpvlanSpec {
    std::string name;
    int master = 0;               // parent link, in sock's namespace
    std::string mode = "l2";      // "l2", "l3", "l3s"
    std::string flag = "bridge";  // "bridge", "private", "vepa" (IFLA_IPVLAN_FLAGS)
    std::optional<unsigned> mtu;
    const Netns* netns = nullptr;  // create directly inside this namespace (nullptr: sock's)
    bool up = false;
    RouteSocket* netns_sock = nullptr;  // open in `netns`: the lookup after creation uses it
};

// Creates an ipvlan on `master`, as create_macvlan. Throws InvalidInput for an unknown
// mode or flag; Error(EOPNOTSUPP) on a kernel without ipvlan.
[[nodiscard]] LinkInfo create_ipvlan(RouteSocket& sock, const IpvlanSpec& spec);

struct VlanSpec {
    std::string name;
    int master = 0;   // parent link, in sock's namespace
    unsigned id = 0;  // 1..4094
    std::optional<unsigned> mtu;
    const Netns* netns = nullptr;
    bool up = false;
    RouteSocket* netns_sock = nullptr;
};

// Creates an 802.1Q VLAN link of `master`, as create_macvlan. Throws InvalidInput for an
// id outside 1..4094; Error(EEXIST) when the master already has that VLAN id.
[[nodiscard]] LinkInfo create_vlan(RouteSocket& sock, const VlanSpec& spec);

struct TapSpec {
    std::string name;
    bool multi_queue = false;       // IFF_MULTI_QUEUE
    std::optional<unsigned> owner;  // uid allowed to open it (TUNSETOWNER)
    std::optional<unsigned> group;  // gid allowed to open it (TUNSETGROUP)
};

// link_tap.cpp: a persistent tap device (down) inside `netns`, through /dev/net/tun. EEXIST when
// the name is taken (never attaches to an existing device). Returns it as seen there.
[[nodiscard]] LinkInfo create_tap(const Netns& netns, const TapSpec& spec);

struct IfbSpec {
    std::string name;
    std::optional<unsigned> mtu;
    std::optional<unsigned> txqlen;
    std::string alias;  // IFLA_IFALIAS (at most 255 bytes), e.g. who owns the device
    bool up = true;
};

// Creates an ifb (intermediate functional block) device, the target tc's mirred action redirects
// traffic to so that a qdisc on the ifb can shape it. EEXIST if the name is taken. Returns it.
[[nodiscard]] LinkInfo create_ifb(RouteSocket& sock, const IfbSpec& spec);

void set_up(RouteSocket& sock, int index, bool up);
void set_master(RouteSocket& sock, int index, int master_index);  // 0 = nomaster
void set_mtu(RouteSocket& sock, int index, unsigned mtu);
void set_mac(RouteSocket& sock, int index, const MacAddr& mac);
void set_name(RouteSocket& sock, int index, const std::string& name);  // link must be down (EBUSY)
void set_promisc(RouteSocket& sock, int index, bool on);
// link_tuning.cpp: IFF_ALLMULTI and IFLA_TXQLEN.
void set_allmulti(RouteSocket& sock, int index, bool on);
void set_txqlen(RouteSocket& sock, int index, unsigned txqlen);

// Changes the port settings of a link enslaved to a bridge, with one AF_BRIDGE RTM_SETLINK
// (IFLA_PROTINFO), as `bridge link set` does.
void set_bridge_port_flags(RouteSocket& sock, int index, const BridgePortFlags& flags);

// What the kernel reports for a bridge port (IFLA_INFO_SLAVE_DATA), from one RTM_GETLINK.
struct BridgePortInfo {
    std::uint8_t state = 0;  // BR_STATE_*: 0 disabled, 1 listening, 2 learning, 3 forwarding
    bool hairpin = false;
    bool isolated = false;
    bool learning = false;
    bool unicast_flood = false;
    bool neigh_suppress = false;
};

// nullopt when the link does not exist or is not a bridge port.
[[nodiscard]] std::optional<BridgePortInfo> bridge_port_info(RouteSocket& sock, int index);
[[nodiscard]] std::optional<std::uint8_t> bridge_port_state(RouteSocket& sock, int index);

// RTM_DELLINK; false when the link was already gone. Removing one end of a veth removes both.
bool remove_link(RouteSocket& sock, std::string_view name);
bool remove_link(RouteSocket& sock, int index);

}  // namespace netlib
