#pragma once

#include <optional>
#include <vector>

#include "netlib/ip.hpp"

namespace netlib {

class RouteSocket;

// Unicast routes in the network namespace of `sock`. Errors are netlib::Error naming the
// operation and the route ("RTM_NEWROUTE 0.0.0.0/0 via 10.0.0.1 dev #3: ...").

struct RouteSpec {
    IpNet dst;  // 0.0.0.0/0 or ::/0 for a default route
    std::optional<IpAddr> gw;
    int ifindex = 0;            // 0: let the kernel pick from the gateway
    std::optional<int> metric;  // RTA_PRIORITY
    std::optional<int> table;   // default: main (254)
    std::optional<int> scope;   // default: link without a gateway, else universe (as iproute2)
    std::optional<unsigned> mtu;
    std::optional<unsigned> advmss;
    bool onlink = false;  // RTNH_F_ONLINK: gateway is on-link even if no address covers it

    bool operator==(const RouteSpec&) const = default;
};

// RTM_NEWROUTE with NLM_F_EXCL (Error EEXIST if the route exists).
void add_route(RouteSocket& sock, const RouteSpec& spec);
// RTM_NEWROUTE with NLM_F_APPEND, as `ip route append`: a route to spec.dst through another
// gateway or interface is added next to the existing ones (IPv6 gateway routes of equal
// metric become one multipath route); Error EEXIST only for an identical route.
void append_route(RouteSocket& sock, const RouteSpec& spec);
// RTM_NEWROUTE with NLM_F_REPLACE: creates or overwrites the route to spec.dst.
void replace_route(RouteSocket& sock, const RouteSpec& spec);
// RTM_DELROUTE of the route matching the set fields; false when there was none (ESRCH).
bool remove_route(RouteSocket& sock, const RouteSpec& spec);
// Unicast routes of one table (default main), both families unless `family` is given. The
// kernel filters by table (strict checking); a table that does not exist gives an empty list.
// Returned specs have table and scope set, metric when the kernel reports one.
[[nodiscard]] std::vector<RouteSpec> list_routes(RouteSocket& sock,
                                                 std::optional<Family> family = std::nullopt,
                                                 std::optional<int> table = std::nullopt);

// The interface the main routing decision sends packets for `dst` out of (RTM_GETROUTE, one
// request, no dump); nullopt when there is no route (ENETUNREACH and the like).
[[nodiscard]] std::optional<int> route_output_ifindex(RouteSocket& sock, const IpAddr& dst);

}  // namespace netlib
