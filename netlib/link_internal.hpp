#pragma once

// netlib-private helpers shared by link.cpp and link_create.cpp (pulls in libnl).

#include <optional>
#include <string>
#include <string_view>

#include <netlink/route/link.h>

#include "netlib/link.hpp"
#include "netlib/route_socket_internal.hpp"

namespace netlib::detail {

using LinkPtr = CPtr<rtnl_link, &rtnl_link_put>;
using NlAddrPtr = CPtr<nl_addr, &nl_addr_put>;

[[nodiscard]] LinkPtr new_link();
[[nodiscard]] NlAddrPtr mac_nl_addr(const MacAddr& mac);
[[nodiscard]] LinkInfo to_info(rtnl_link* link);

// Sends a libnl-built request message (rtnl_link_build_*_request) and returns 0 or the errno.
// `rc`/`raw` are what the builder returned; a builder failure throws.
[[nodiscard]] int try_send_built(RouteSocket& sock, int rc, nl_msg* raw, std::string_view op,
                                 std::string_view object, const MsgHandler& on_reply = {});
// Handler that turns each RTM_NEWLINK reply into a LinkInfo (libnl's parser) and stores it.
[[nodiscard]] MsgHandler link_collector(std::optional<LinkInfo>& out);
// Changes link `index` as described by `changes` (one RTM_NEWLINK without NLM_F_CREATE).
void change_link(RouteSocket& sock, int index, rtnl_link* changes);

// bridge_port.cpp: whether any IFLA_BRPORT_* flag is set, and the set ones as attributes (the
// payload of IFLA_PROTINFO or of IFLA_INFO_SLAVE_DATA).
[[nodiscard]] bool any_port_flag(const BridgePortFlags& flags);
void put_port_flags(nl_msg* msg, const BridgePortFlags& flags);
// The bridge port an RTM_NEWLINK reports in IFLA_LINKINFO/IFLA_INFO_SLAVE_DATA; nullopt for any
// other message or link.
[[nodiscard]] std::optional<BridgePortInfo> parse_bridge_port(nl_msg* msg);

// The attributes nested in IFLA_LINKINFO of an RTM_NEWLINK reply: `info` gets
// IFLA_INFO_* (sized IFLA_INFO_MAX + 1). False when the message has none.
[[nodiscard]] bool parse_link_info(nl_msg* msg, nlattr** info);

// "eth0 (#3)" if the link exists, else "#3": names the object in errors about an ifindex.
[[nodiscard]] std::string link_label(RouteSocket& sock, int index);

}  // namespace netlib::detail
