#pragma once

#include "netlib/nft_firewall.hpp"
#include "plugins/cni/skel.hpp"

namespace firewall {

// The firewall plugin's keys, with the reference plugin's names
// (containernetworking/plugins plugins/meta/firewall):
// - backend: "" (podman's default), absent, "nftables" or "iptables". sdnet only writes
//   nftables; "iptables" is taken to mean the same rules, as the bridge plugin takes
//   ipMasqBackend "iptables" (on current distributions iptables is iptables-nft anyway).
//   "firewalld" is refused (code 2): sdnet does not talk to firewalld, and silently ignoring
//   the zone a user asked for would be worse than saying so.
// - iptablesAdminChainName: accepted (a string); sdnet's admin chain is always chain "admin" of
//   table inet sdnet_firewall, see netlib/nft_firewall.hpp.
// - firewalldZone: accepted (a string) and ignored, as the reference ignores it outside the
//   firewalld backend.
// - ingressPolicy: "open" (default, also ""), "same-bridge", "isolated".
struct Config {
    netlib::IngressPolicy policy = netlib::IngressPolicy::Open;

    // Throws cni::Error naming the key. With `lenient` (DEL) nothing is an error: a config that
    // does not parse counts as policy open, and DEL then removes what it finds by owner tag.
    static Config parse(const cni::Request& req, bool lenient = false);
};

}  // namespace firewall
