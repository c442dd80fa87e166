#pragma once

#include <functional>
#include <optional>
#include <string>

#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/cni/skel.hpp"

// The plugins whose container interface is a link of a host interface, `master` (macvlan,
// ipvlan, vlan), or a device of its own made the same way (tap), differ only in the link kind and
// its keys; everything else is here, once:
//   - keys `master` (default: the default route's interface), `mtu` (at most the master's),
//     `linkInContainer`, `ipam` (optional: without it the link is only up, layer 2);
//   - ADD creates the link straight in the container netns, named CNI_IFNAME and up, in one
//     request, and configures it from the IPAM result; a failure undoes all of it. Kernels
//     before 6.x check a new link's name in the creating netns too, where CNI_IFNAME (eth0) may
//     be taken: there the link is created under a temporary name, renamed and brought up;
//   - DEL releases the IPAM addresses, then removes the link if the netns still exists; it reads
//     no key but `ipam`;
//   - CHECK compares kind, master, the kind's attributes, addresses and routes; GC and STATUS go
//     to IPAM.
namespace plugin {

struct ChildLinkRequest {
    const cni::Request& req;
    std::string name;             // CNI_IFNAME, or a temporary name (then `up` is false)
    int master = 0;               // index in parent_sock's netns
    std::optional<unsigned> mtu;  // `mtu`, already bounded by the master's
    const netlib::Netns* netns;   // where to create it; nullptr: parent_sock's (linkInContainer)
    netlib::RouteSocket& ctr;     // open in the container netns
    bool up = true;               // false: created down, to be renamed
};

struct ChildLinkKind {
    std::string plugin;     // the plugin's name, "macvlan"
    std::string link_kind;  // the link's IFLA_INFO_KIND, "macvlan" ("tun" for tap)
    // Validates the kind's own keys (code 7 naming them); called by every verb but DEL, before
    // anything is changed.
    std::function<void(const cni::Request&)> validate;
    // Creates the link as `r` says; returns it as seen in the container netns.
    std::function<netlib::LinkInfo(netlib::RouteSocket& parent_sock, const ChildLinkRequest& r)>
        create;
    // CHECK of the kind's own attributes of `link`: what differs from the configuration.
    std::function<std::optional<std::string>(const cni::Request&, const netlib::LinkInfo& link)>
        check;
    // Chained without `ipam` (ipvlan): the addresses of prevResult go on the link, and without
    // `master` the single interface of prevResult is the master.
    bool uses_prev_result = false;
    // false (tap): a device of its own, no `master` to look up or CHECK.
    bool has_master = true;
};

cni::Plugin child_link_plugin(const ChildLinkKind& kind);

}  // namespace plugin
