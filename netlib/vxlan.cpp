// VXLAN devices: built by hand, as libnl 3.7 has no setter for IFLA_VXLAN_LOCAL6/GROUP6 and
// cannot put IFLA_AF_SPEC into a creating request.

#include "netlib/vxlan.hpp"

#include <cerrno>
#include <stdexcept>
#include <string>

#include <arpa/inet.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "netlib/link_internal.hpp"

namespace netlib {
namespace {

constexpr std::uint32_t kMaxVni = (1U << 24) - 1;

void validate(const VxlanSpec& spec) {
    if (spec.vni < 1 || spec.vni > kMaxVni) {
        throw std::invalid_argument("VXLAN id " + std::to_string(spec.vni) +
                                    " is not in 1..16777215");
    }
    if (spec.group && !spec.group->is_multicast()) {
        throw std::invalid_argument("VXLAN group " + spec.group->to_string() +
                                    " is not a multicast address");
    }
    if (spec.group && spec.local && spec.group->family() != spec.local->family()) {
        throw std::invalid_argument("VXLAN local " + spec.local->to_string() + " and group " +
                                    spec.group->to_string() + " are of different families");
    }
}

void put_ip(nl_msg* m, int v4_type, int v6_type, const IpAddr& a) {
    detail::put_addr(m, a.is_v4() ? v4_type : v6_type, a);
}

void put_vxlan_data(nl_msg* m, const VxlanSpec& spec) {
    nlattr* info = detail::nest_start(m, IFLA_LINKINFO);
    static constexpr char kKind[] = "vxlan";
    detail::put(m, IFLA_INFO_KIND, kKind, sizeof kKind);
    nlattr* data = detail::nest_start(m, IFLA_INFO_DATA);
    detail::put_u32(m, IFLA_VXLAN_ID, spec.vni);
    std::uint16_t port = htons(spec.port);  // the kernel wants it in network order
    detail::put(m, IFLA_VXLAN_PORT, &port, sizeof port);
    detail::put_u8(m, IFLA_VXLAN_LEARNING, spec.learning ? 1 : 0);
    if (spec.df) {
        detail::put_u8(m, IFLA_VXLAN_DF, VXLAN_DF_SET);
    }
    if (spec.local) {
        put_ip(m, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, *spec.local);
    }
    if (spec.group) {
        put_ip(m, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, *spec.group);
    }
    if (spec.link != 0) {
        detail::put_u32(m, IFLA_VXLAN_LINK, static_cast<std::uint32_t>(spec.link));
    }
    detail::nest_end(m, data);
    detail::nest_end(m, info);
}

ifinfomsg header(int index, bool up) {
    ifinfomsg hdr{};
    hdr.ifi_family = AF_UNSPEC;
    hdr.ifi_index = index;
    if (up) {
        hdr.ifi_flags = IFF_UP;
        hdr.ifi_change = IFF_UP;
    }
    return hdr;
}

detail::MsgPtr create_msg(const VxlanSpec& spec, bool up) {
    detail::MsgPtr msg = detail::new_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, header(0, up));
    nl_msg* m = msg.get();
    detail::put(m, IFLA_IFNAME, spec.name.c_str(), spec.name.size() + 1);
    if (spec.mtu) {
        detail::put_u32(m, IFLA_MTU, *spec.mtu);
    }
    if (spec.mac) {
        detail::put(m, IFLA_ADDRESS, spec.mac->bytes().data(), spec.mac->bytes().size());
    }
    if (spec.master != 0) {
        detail::put_u32(m, IFLA_MASTER, static_cast<std::uint32_t>(spec.master));
    }
    put_vxlan_data(m, spec);
    return msg;
}

// addrgenmode none, then up: the creating request ignores IFLA_AF_SPEC, and the link-local
// address is generated when the device comes up. A kernel without IPv6 refuses AF_INET6
// (EAFNOSUPPORT); it makes no link-local address, so the device only comes up.
int try_no_link_local_then_up(RouteSocket& sock, int index, bool up) {
    detail::MsgPtr msg = detail::new_msg(RTM_NEWLINK, 0, header(index, up));
    nlattr* af = detail::nest_start(msg.get(), IFLA_AF_SPEC);
    nlattr* inet6 = detail::nest_start(msg.get(), AF_INET6);
    detail::put_u8(msg.get(), IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
    detail::nest_end(msg.get(), inet6);
    detail::nest_end(msg.get(), af);
    int err = detail::try_request(sock, msg.get());
    if (err == EAFNOSUPPORT && up) {
        msg = detail::new_msg(RTM_NEWLINK, 0, header(index, up));
        err = detail::try_request(sock, msg.get());
    }
    return err == EAFNOSUPPORT ? 0 : err;
}

std::optional<IpAddr> addr_of(nlattr** tb, int v4_type, int v6_type) {
    for (int type : {v4_type, v6_type}) {
        if (tb[type] != nullptr) {
            if (auto a = detail::get_addr(tb[type]); a && !a->is_unspecified()) {
                return a;
            }
        }
    }
    return std::nullopt;
}

std::optional<VxlanInfo> parse_vxlan(nl_msg* msg) {
    nlattr* li[IFLA_INFO_MAX + 1] = {};
    if (!detail::parse_link_info(msg, li) || li[IFLA_INFO_KIND] == nullptr ||
        std::string{nla_get_string(li[IFLA_INFO_KIND])} != "vxlan" ||
        li[IFLA_INFO_DATA] == nullptr) {
        return std::nullopt;
    }
    nlattr* tb[IFLA_VXLAN_MAX + 1] = {};
    if (nla_parse_nested(tb, IFLA_VXLAN_MAX, li[IFLA_INFO_DATA], nullptr) < 0) {
        return std::nullopt;
    }
    VxlanInfo info;
    if (tb[IFLA_VXLAN_ID] != nullptr) {
        info.vni = nla_get_u32(tb[IFLA_VXLAN_ID]);
    }
    if (tb[IFLA_VXLAN_PORT] != nullptr) {
        info.port = ntohs(nla_get_u16(tb[IFLA_VXLAN_PORT]));
    }
    info.local = addr_of(tb, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6);
    info.group = addr_of(tb, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6);
    if (tb[IFLA_VXLAN_LINK] != nullptr) {
        info.link = static_cast<int>(nla_get_u32(tb[IFLA_VXLAN_LINK]));
    }
    info.learning = tb[IFLA_VXLAN_LEARNING] != nullptr && nla_get_u8(tb[IFLA_VXLAN_LEARNING]) != 0;
    info.df = tb[IFLA_VXLAN_DF] != nullptr && nla_get_u8(tb[IFLA_VXLAN_DF]) == VXLAN_DF_SET;
    return info;
}

}  // namespace

LinkInfo create_vxlan(RouteSocket& sock, const VxlanSpec& spec) {
    validate(spec);
    detail::MsgPtr msg = create_msg(spec, spec.up && spec.link_local);
    detail::request(sock, msg.get(), "RTM_NEWLINK", spec.name);
    auto info = find_link(sock, spec.name);
    if (!info) {
        throw Error(ENODEV, "RTM_GETLINK", spec.name, "link vanished right after it was created");
    }
    if (!spec.link_local) {
        if (int err = try_no_link_local_then_up(sock, info->index, spec.up); err != 0) {
            std::string ack = sock.impl().last_ack;
            (void)remove_link(sock, info->index);
            throw Error(err, "RTM_NEWLINK", spec.name, ack);
        }
        info->up = spec.up;
    }
    return *info;
}

std::optional<VxlanInfo> vxlan_info(RouteSocket& sock, int index) {
    if (index <= 0) {
        return std::nullopt;
    }
    nl_msg* raw = nullptr;
    int rc = rtnl_link_build_get_request(index, nullptr, &raw);
    std::optional<VxlanInfo> out;
    std::string object = "#" + std::to_string(index);
    int err = detail::try_send_built(sock, rc, raw, "RTM_GETLINK", object,
                                     [&out](nl_msg* msg) { out = parse_vxlan(msg); });
    if (err == ENODEV) {
        return std::nullopt;
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_GETLINK", object);
    }
    return out;
}

}  // namespace netlib
