#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "netlib/netns.hpp"
#include "plugins/cni/rollback.hpp"
#include "plugins/tuning/config.hpp"

// The sysctl part of the tuning plugin: key checks (pure, or reading the allowlist file) and the
// writes inside the container's namespace.
namespace tuning {

// The file below /proc/sys for `key`: dotted or slashed form (netlib/sysctl.hpp), then the first
// "IFNAME" replaced by `ifname`, as the reference does. Throws cni::Error(7) for keys outside
// net/ or with empty, "." or ".." components.
std::string sysctl_file(std::string_view key, const std::string& ifname);

// Go's decoder would silently keep one of two equal keys of a JSON object, and which sysctl
// value wins would be a matter of map order; the reference (>= v1.2.0) refuses them. Throws
// cni::Error(7) naming the key if the "sysctl" object of `config_text`, or args.cni.sysctl,
// holds a key twice.
void reject_duplicate_keys(const std::string& config_text);

// With /etc/cni/tuning/allowlist.conf present (one extended regular expression per line),
// every key must match one of its lines somewhere (an unanchored search, as Go's
// regexp.MatchString). Throws cni::Error(7) for a key that matches none.
void check_allowlist(const std::vector<Sysctl>& sysctls, const char* allowlist_path);

// Writes every value inside `netns`, each registering the write of its old value in `undo`.
// Throws cni::Error: 7 for a key the namespace does not have or a value the kernel refuses.
void apply_sysctls(const netlib::Netns& netns, const std::vector<Sysctl>& sysctls,
                   cni::Rollback& undo);

// "net/ipv4/conf/eth0/arp_notify is 0, configured 1" for every value that differs.
std::vector<std::string> sysctl_mismatches(const netlib::Netns& netns,
                                           const std::vector<Sysctl>& sysctls);

}  // namespace tuning
