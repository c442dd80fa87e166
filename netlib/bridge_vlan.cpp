// Bridge VLAN requests. libnl 3.7 has no setter for IFLA_BR_VLAN_FILTERING nor a builder for
// port VLANs (IFLA_BRIDGE_VLAN_INFO), so the messages are built here, as iproute2's `bridge
// vlan` builds them: AF_BRIDGE RTM_SETLINK/RTM_DELLINK with IFLA_AF_SPEC { IFLA_BRIDGE_FLAGS =
// BRIDGE_FLAGS_MASTER, IFLA_BRIDGE_VLAN_INFO... }.

#include "netlib/bridge_vlan.hpp"

#include <cerrno>
#include <string>

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "netlib/error.hpp"
#include "netlib/link_internal.hpp"

namespace netlib {
namespace {

void put_u16(nl_msg* msg, int type, std::uint16_t v) {
    detail::put(msg, type, &v, sizeof v);
}

void put_vlan_info(nl_msg* msg, std::uint16_t vid, std::uint16_t flags) {
    bridge_vlan_info info{};
    info.flags = flags;
    info.vid = vid;
    detail::put(msg, IFLA_BRIDGE_VLAN_INFO, &info, sizeof info);
}

// Consecutive VLANs without flags become one RANGE_BEGIN/RANGE_END pair: a trunk of 4,094
// VLANs is two attributes, not 4,094.
void put_vlans(nl_msg* msg, const std::vector<BridgeVlan>& vlans) {
    for (std::size_t i = 0; i < vlans.size();) {
        const BridgeVlan& v = vlans[i];
        std::uint16_t flags =
            (v.pvid ? BRIDGE_VLAN_INFO_PVID : 0) | (v.untagged ? BRIDGE_VLAN_INFO_UNTAGGED : 0);
        std::size_t end = i;
        while (flags == 0 && end + 1 < vlans.size() && !vlans[end + 1].pvid &&
               !vlans[end + 1].untagged && vlans[end + 1].vid == vlans[end].vid + 1) {
            ++end;
        }
        if (end == i) {
            put_vlan_info(msg, v.vid, flags);
        } else {
            put_vlan_info(msg, v.vid, BRIDGE_VLAN_INFO_RANGE_BEGIN);
            put_vlan_info(msg, vlans[end].vid, BRIDGE_VLAN_INFO_RANGE_END);
        }
        i = end + 1;
    }
}

detail::MsgPtr port_vlan_msg(int type, int port_index, const std::vector<BridgeVlan>& vlans) {
    ifinfomsg hdr{};
    hdr.ifi_family = AF_BRIDGE;  // routes the request to br_setlink / br_dellink
    hdr.ifi_index = port_index;
    detail::MsgPtr msg = detail::new_msg(type, 0, hdr);
    nlattr* spec = detail::nest_start(msg.get(), IFLA_AF_SPEC);
    put_u16(msg.get(), IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_MASTER);
    put_vlans(msg.get(), vlans);
    detail::nest_end(msg.get(), spec);
    return msg;
}

// IFLA_LINKINFO -> IFLA_INFO_DATA -> IFLA_BR_VLAN_DEFAULT_PVID of a bridge's RTM_NEWLINK.
std::optional<std::uint16_t> parse_default_pvid(nl_msg* msg) {
    nlattr* li[IFLA_INFO_MAX + 1] = {};
    if (!detail::parse_link_info(msg, li) || li[IFLA_INFO_DATA] == nullptr) {
        return std::nullopt;
    }
    nlattr* br[IFLA_BR_MAX + 1] = {};
    if (nla_parse_nested(br, IFLA_BR_MAX, li[IFLA_INFO_DATA], nullptr) < 0 ||
        br[IFLA_BR_VLAN_DEFAULT_PVID] == nullptr) {
        return std::nullopt;
    }
    std::uint16_t pvid = nla_get_u16(br[IFLA_BR_VLAN_DEFAULT_PVID]);
    return pvid != 0 ? std::optional<std::uint16_t>{pvid} : std::nullopt;
}

}  // namespace

void enable_vlan_filtering(RouteSocket& sock, int bridge_index) {
    ifinfomsg hdr{};
    hdr.ifi_family = AF_UNSPEC;
    hdr.ifi_index = bridge_index;
    detail::MsgPtr msg = detail::new_msg(RTM_NEWLINK, 0, hdr);
    nlattr* info = detail::nest_start(msg.get(), IFLA_LINKINFO);
    static constexpr char kKind[] = "bridge";
    detail::put(msg.get(), IFLA_INFO_KIND, kKind, sizeof kKind);
    nlattr* data = detail::nest_start(msg.get(), IFLA_INFO_DATA);
    detail::put_u8(msg.get(), IFLA_BR_VLAN_FILTERING, 1);
    detail::nest_end(msg.get(), data);
    detail::nest_end(msg.get(), info);
    if (int err = detail::try_request(sock, msg.get()); err != 0) {
        detail::fail(sock, err, "RTM_NEWLINK (vlan_filtering)",
                     detail::link_label(sock, bridge_index));
    }
}

std::optional<std::uint16_t> bridge_default_pvid(RouteSocket& sock, int bridge_index) {
    nl_msg* raw = nullptr;
    int rc = rtnl_link_build_get_request(bridge_index, nullptr, &raw);
    std::optional<std::uint16_t> out;
    std::string object = "#" + std::to_string(bridge_index);
    int err = detail::try_send_built(sock, rc, raw, "RTM_GETLINK", object,
                                     [&out](nl_msg* msg) { out = parse_default_pvid(msg); });
    if (err != 0) {
        detail::fail(sock, err, "RTM_GETLINK", object);
    }
    return out;
}

void add_port_vlans(RouteSocket& sock, int port_index, const std::vector<BridgeVlan>& vlans) {
    if (vlans.empty()) {
        return;
    }
    detail::MsgPtr msg = port_vlan_msg(RTM_SETLINK, port_index, vlans);
    if (int err = detail::try_request(sock, msg.get()); err != 0) {
        detail::fail(sock, err, "RTM_SETLINK (bridge vlan add)",
                     detail::link_label(sock, port_index));
    }
}

bool remove_port_vlan(RouteSocket& sock, int port_index, std::uint16_t vid) {
    detail::MsgPtr msg = port_vlan_msg(RTM_DELLINK, port_index, {BridgeVlan{vid, false, false}});
    int err = detail::try_request(sock, msg.get());
    if (err == ENOENT) {
        return false;
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_DELLINK (bridge vlan del)",
                     detail::link_label(sock, port_index));
    }
    return true;
}

}  // namespace netlib
