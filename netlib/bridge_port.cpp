// Bridge port settings (IFLA_BRPORT_*). libnl 3.7 cannot set IFLA_BRPORT_ISOLATED nor read
// IFLA_INFO_SLAVE_DATA, so these requests are built and parsed here.

#include <cerrno>
#include <cstring>

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "netlib/link.hpp"
#include "netlib/link_internal.hpp"

namespace netlib {
namespace {

void put_flag(nl_msg* msg, int type, const std::optional<bool>& value) {
    if (value) {
        detail::put_u8(msg, type, *value ? 1 : 0);
    }
}

bool flag(nlattr* const* tb, int type) {
    return tb[type] != nullptr && nla_get_u8(tb[type]) != 0;
}

}  // namespace

namespace detail {

bool parse_link_info(nl_msg* msg, nlattr** info) {
    nlmsghdr* hdr = nlmsg_hdr(msg);
    nlattr* tb[IFLA_MAX + 1] = {};
    return hdr->nlmsg_type == RTM_NEWLINK &&
           nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) >= 0 &&
           tb[IFLA_LINKINFO] != nullptr &&
           nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) >= 0;
}

std::optional<BridgePortInfo> parse_bridge_port(nl_msg* msg) {
    nlattr* li[IFLA_INFO_MAX + 1] = {};
    if (!parse_link_info(msg, li) || li[IFLA_INFO_SLAVE_KIND] == nullptr ||
        li[IFLA_INFO_SLAVE_DATA] == nullptr ||
        std::strcmp(nla_get_string(li[IFLA_INFO_SLAVE_KIND]), "bridge") != 0) {
        return std::nullopt;
    }
    nlattr* bp[IFLA_BRPORT_MAX + 1] = {};
    if (nla_parse_nested(bp, IFLA_BRPORT_MAX, li[IFLA_INFO_SLAVE_DATA], nullptr) < 0) {
        return std::nullopt;
    }
    BridgePortInfo info;
    info.state = bp[IFLA_BRPORT_STATE] != nullptr ? nla_get_u8(bp[IFLA_BRPORT_STATE]) : 0;
    info.hairpin = flag(bp, IFLA_BRPORT_MODE);
    info.isolated = flag(bp, IFLA_BRPORT_ISOLATED);
    info.learning = flag(bp, IFLA_BRPORT_LEARNING);
    info.unicast_flood = flag(bp, IFLA_BRPORT_UNICAST_FLOOD);
    info.neigh_suppress = flag(bp, IFLA_BRPORT_NEIGH_SUPPRESS);
    return info;
}

bool any_port_flag(const BridgePortFlags& f) {
    return f.hairpin || f.isolated || f.learning || f.unicast_flood || f.neigh_suppress;
}

void put_port_flags(nl_msg* msg, const BridgePortFlags& flags) {
    put_flag(msg, IFLA_BRPORT_MODE, flags.hairpin);
    put_flag(msg, IFLA_BRPORT_ISOLATED, flags.isolated);
    put_flag(msg, IFLA_BRPORT_LEARNING, flags.learning);
    put_flag(msg, IFLA_BRPORT_UNICAST_FLOOD, flags.unicast_flood);
    put_flag(msg, IFLA_BRPORT_NEIGH_SUPPRESS, flags.neigh_suppress);
}

}  // namespace detail

void set_bridge_port_flags(RouteSocket& sock, int index, const BridgePortFlags& flags) {
    ifinfomsg hdr{};
    hdr.ifi_family = AF_BRIDGE;  // routes the request to the bridge (br_setlink)
    hdr.ifi_index = index;
    detail::MsgPtr msg = detail::new_msg(RTM_SETLINK, 0, hdr);
    // br_setlink only parses IFLA_PROTINFO as a nested set when NLA_F_NESTED is present
    // (nest_start adds it); otherwise it takes it as a bare STP state byte.
    nlattr* nest = detail::nest_start(msg.get(), IFLA_PROTINFO);
    detail::put_port_flags(msg.get(), flags);
    detail::nest_end(msg.get(), nest);
    if (int err = detail::try_request(sock, msg.get()); err != 0) {
        std::string ack = sock.impl().last_ack;
        throw Error(err, "RTM_SETLINK", detail::link_label(sock, index), ack);
    }
}

std::optional<BridgePortInfo> bridge_port_info(RouteSocket& sock, int index) {
    nl_msg* raw = nullptr;
    int rc = rtnl_link_build_get_request(index, nullptr, &raw);
    std::optional<BridgePortInfo> out;
    std::string object = "#" + std::to_string(index);
    int err = detail::try_send_built(sock, rc, raw, "RTM_GETLINK", object,
                                     [&out](nl_msg* msg) { out = detail::parse_bridge_port(msg); });
    if (err == ENODEV) {
        return std::nullopt;
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_GETLINK", object);
    }
    return out;
}

std::optional<std::uint8_t> bridge_port_state(RouteSocket& sock, int index) {
    if (auto info = bridge_port_info(sock, index)) {
        return info->state;
    }
    return std::nullopt;
}

}  // namespace netlib
