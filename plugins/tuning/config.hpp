#pragma once

#include <optional>
#include <string>
#include <vector>

#include "netlib/ip.hpp"
#include "plugins/cni/skel.hpp"

namespace tuning {

inline constexpr const char* kDefaultDataDir = "/run/cni/tuning";
inline constexpr const char* kAllowlistFile = "/etc/cni/tuning/allowlist.conf";

struct Sysctl {
    std::string key;   // as configured, "net.ipv4.conf.IFNAME.arp_notify"
    std::string path;  // below /proc/sys, IFNAME substituted: "net/ipv4/conf/eth0/arp_notify"
    std::string value;
};

// The tuning plugin's keys, with the reference plugin's names, defaults and precedence
// (containernetworking/plugins plugins/meta/tuning):
//   sysctl, mac, mtu, promisc, allmulti, txQLen, dataDir; the MAC also from CNI_ARGS MAC,
//   runtimeConfig.mac (capability "mac") and args.cni.mac, in rising precedence; args.cni
//   .{sysctl, promisc, mtu, allmulti, txQLen} override the keys (args.cni.sysctl per key).
// As in the reference, promisc false and mtu 0 mean "leave alone".
struct Config {
    // The keys of `sysctl` in sorted order (JSON objects are read as maps), then those
    // args.cni.sysctl adds; args.cni.sysctl values replace equal keys.
    std::vector<Sysctl> sysctls;
    std::optional<netlib::MacAddr> mac;
    bool promisc = false;
    unsigned mtu = 0;
    std::optional<bool> allmulti;
    std::optional<unsigned> txqlen;
    std::string data_dir = kDefaultDataDir;

    bool changes_link() const { return mac || promisc || mtu != 0 || allmulti || txqlen; }

    // Throws cni::Error naming the key: code 7 for bad values (including sysctls outside
    // /proc/sys/net, duplicated sysctl keys and sysctls the allowlist does not allow), 4 for
    // CNI_ARGS.
    static Config parse(const cni::Request& req);
    // dataDir only, for DEL, which must work whatever else the configuration holds.
    static std::string parse_data_dir(const cni::Request& req);
};

}  // namespace tuning
