#pragma once

#include <optional>
#include <vector>

#include "netlib/ip.hpp"

namespace netlib {

class RouteSocket;

// Interface addresses, in the network namespace of `sock`. Errors are netlib::Error naming the
// operation and "<address> dev #<ifindex>".

struct AddrFlags {
    bool nodad = false;          // IFA_F_NODAD: IPv6 address usable at once, no DAD
    bool noprefixroute = false;  // IFA_F_NOPREFIXROUTE: no automatic prefix route
};

// RTM_NEWADDR with NLM_F_EXCL; IPv4 addresses get the subnet broadcast (as the reference's
// netlink library does). An existing address throws Error with code() EEXIST, so callers can
// tolerate it.
void add_address(RouteSocket& sock, int ifindex, const IpNet& addr, AddrFlags flags = {});
// RTM_DELADDR; false when the address was not there.
bool remove_address(RouteSocket& sock, int ifindex, const IpNet& addr);
// Addresses of one link (the kernel filters the dump by index), or of every link for ifindex 0,
// optionally of one family.
// IPv6 link-local (fe80::/10) addresses are included: callers filter.
[[nodiscard]] std::vector<IpNet> list_addresses(RouteSocket& sock, int ifindex,
                                                std::optional<Family> family = std::nullopt);

}  // namespace netlib
