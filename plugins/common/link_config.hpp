#pragma once

#include <optional>
#include <string>

#include "netlib/ip.hpp"
#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/cni/skel.hpp"

// Configuration keys and lookups shared by the plugins that put a link on a host interface
// (macvlan, ipvlan, vlan): `master`, `mtu`, `mac`, with the reference's rules.
namespace plugin {

// `text` as a MAC address, or code 7 naming `where`.
netlib::MacAddr parse_mac(const std::string& text, const std::string& where);

// The container MAC, with the reference macvlan's precedence: the `mac` key < CNI_ARGS MAC <
// runtimeConfig.mac. Code 7 for a malformed one, code 4 for unknown CNI_ARGS keys.
std::optional<netlib::MacAddr> requested_mac(const cni::Request& req);

// `mtu`: absent or 0 means the master's; otherwise 68..65535 (code 7 naming the key).
std::optional<unsigned> parse_mtu(const cni::Request& req);

// `master` from the configuration, or the interface of the first IPv4 (then IPv6) default route
// of `sock`'s netns, as the reference picks it. Code 7 when neither names an interface.
std::string master_name(const cni::Request& req, netlib::RouteSocket& sock);

// The master link itself; code 7 naming it when it does not exist, or when `mtu` exceeds its
// MTU (a child cannot send larger frames than its parent).
netlib::LinkInfo find_master(netlib::RouteSocket& sock, const std::string& name,
                             std::optional<unsigned> mtu);

}  // namespace plugin
