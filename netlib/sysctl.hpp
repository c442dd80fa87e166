#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace netlib {

// Network sysctls under /proc/sys/net. These act on the network namespace of the *calling
// thread* (the kernel resolves /proc/sys/net for the opener's namespace), not of any
// RouteSocket: to change a container's setting, enter it first:
//     { netlib::NetnsGuard in{container}; netlib::write_sysctl("net.ipv4.conf.eth0.arp_notify",
//     "1"); }
//
// Keys come in either form sysctl(8) and the reference's tuning plugin accept:
//   "net/ipv4/conf/eth0.100/arp_notify"  slash form, taken as a path (dots stay)
//   "net.ipv4.conf.eth0.100.arp_notify"  dotted form; the interface name of a conf/neigh key
//                                        keeps its dots
// Only keys under net/ are allowed; anything else (or "..", empty components) throws
// InvalidInput.

// The path below /proc/sys for `key`, e.g. "net/ipv4/conf/eth0.100/arp_notify". Pure.
[[nodiscard]] std::string sysctl_path(std::string_view key);

// Writes `value`; throws Error("write sysctl <key>: ...") on failure, e.g. ENOENT.
void write_sysctl(std::string_view key, std::string_view value);
// The value without its trailing newline; throws Error on failure.
[[nodiscard]] std::string read_sysctl(std::string_view key);
// As read_sysctl(), but nullopt when the key does not exist.
[[nodiscard]] std::optional<std::string> try_read_sysctl(std::string_view key);

}  // namespace netlib
