#include "netlib/route.hpp"

#include <array>
#include <cerrno>

#include <linux/rtnetlink.h>

#include "netlib/route_socket_internal.hpp"

namespace netlib {
namespace {

constexpr int kMainTable = RT_TABLE_MAIN;

std::string label(const RouteSpec& r) {
    std::string s = r.dst.to_string();
    if (r.gw) {
        s += " via " + r.gw->to_string();
    }
    if (r.ifindex != 0) {
        s += " dev #" + std::to_string(r.ifindex);
    }
    if (r.table && *r.table != kMainTable) {
        s += " table " + std::to_string(*r.table);
    }
    return s;
}

// Shared by add/replace/delete. For delete, unset fields must stay wildcards: protocol 0 and
// scope NOWHERE match anything in fib_table_delete, and type 0 matches any route type.
detail::MsgPtr route_msg(int type, int flags, const RouteSpec& r, bool for_delete) {
    int table = r.table.value_or(kMainTable);
    rtmsg hdr{};
    hdr.rtm_family = static_cast<unsigned char>(to_af(r.dst.family()));
    hdr.rtm_dst_len = static_cast<unsigned char>(r.dst.prefix());
    hdr.rtm_table = static_cast<unsigned char>(table < 256 ? table : int{RT_TABLE_UNSPEC});
    hdr.rtm_protocol = for_delete ? RTPROT_UNSPEC : RTPROT_BOOT;  // RTPROT_BOOT as `ip route`
    hdr.rtm_type = for_delete ? RTN_UNSPEC : RTN_UNICAST;
    int default_scope = for_delete                  ? RT_SCOPE_NOWHERE
                        : (!r.gw && r.ifindex != 0) ? RT_SCOPE_LINK
                                                    : RT_SCOPE_UNIVERSE;
    hdr.rtm_scope = static_cast<unsigned char>(r.scope.value_or(default_scope));
    hdr.rtm_flags = r.onlink ? RTNH_F_ONLINK : 0U;
    detail::MsgPtr msg = detail::new_msg(type, flags, hdr);
    nl_msg* m = msg.get();
    detail::put_u32(m, RTA_TABLE, static_cast<std::uint32_t>(table));
    if (r.dst.prefix() != 0) {
        detail::put_addr(m, RTA_DST, r.dst.network().addr());
    }
    if (r.gw) {
        detail::put_addr(m, RTA_GATEWAY, *r.gw);
    }
    if (r.ifindex != 0) {
        detail::put_u32(m, RTA_OIF, static_cast<std::uint32_t>(r.ifindex));
    }
    if (r.metric) {
        detail::put_u32(m, RTA_PRIORITY, static_cast<std::uint32_t>(*r.metric));
    }
    if (r.mtu || r.advmss) {
        nlattr* metrics = detail::nest_start(m, RTA_METRICS);
        if (r.mtu) {
            detail::put_u32(m, RTAX_MTU, *r.mtu);
        }
        if (r.advmss) {
            detail::put_u32(m, RTAX_ADVMSS, *r.advmss);
        }
        detail::nest_end(m, metrics);
    }
    return msg;
}

void parse_metrics(nlattr* attr, RouteSpec& r) {
    nlattr* mx[RTAX_MAX + 1] = {};
    if (nla_parse_nested(mx, RTAX_MAX, attr, nullptr) < 0) {
        return;
    }
    if (mx[RTAX_MTU] != nullptr) {
        r.mtu = nla_get_u32(mx[RTAX_MTU]);
    }
    if (mx[RTAX_ADVMSS] != nullptr) {
        r.advmss = nla_get_u32(mx[RTAX_ADVMSS]);
    }
}

std::optional<RouteSpec> parse_route(nl_msg* msg, int table) {
    nlmsghdr* hdr = nlmsg_hdr(msg);
    if (hdr->nlmsg_type != RTM_NEWROUTE) {
        return std::nullopt;
    }
    const auto* rtm = static_cast<const rtmsg*>(nlmsg_data(hdr));
    nlattr* tb[RTA_MAX + 1] = {};
    if (rtm->rtm_type != RTN_UNICAST || (rtm->rtm_flags & RTM_F_CLONED) != 0 ||
        nlmsg_parse(hdr, sizeof(rtmsg), tb, RTA_MAX, nullptr) < 0) {
        return std::nullopt;
    }
    RouteSpec r;
    r.table =
        tb[RTA_TABLE] != nullptr ? static_cast<int>(nla_get_u32(tb[RTA_TABLE])) : rtm->rtm_table;
    if (*r.table != table) {
        return std::nullopt;  // kernels without strict checking dump every table
    }
    Family family = rtm->rtm_family == AF_INET6 ? Family::V6 : Family::V4;
    static constexpr std::array<std::uint8_t, 16> kZero{};
    IpAddr dst = IpAddr::from_bytes({kZero.data(), family == Family::V4 ? 4U : 16U});
    if (tb[RTA_DST] != nullptr) {
        dst = detail::get_addr(tb[RTA_DST]).value_or(dst);
    }
    r.dst = IpNet(dst, rtm->rtm_dst_len);
    if (tb[RTA_GATEWAY] != nullptr) {
        r.gw = detail::get_addr(tb[RTA_GATEWAY]);
    }
    r.ifindex = tb[RTA_OIF] != nullptr ? static_cast<int>(nla_get_u32(tb[RTA_OIF])) : 0;
    if (tb[RTA_PRIORITY] != nullptr) {
        r.metric = static_cast<int>(nla_get_u32(tb[RTA_PRIORITY]));
    }
    r.scope = rtm->rtm_scope;
    r.onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
    if (tb[RTA_METRICS] != nullptr) {
        parse_metrics(tb[RTA_METRICS], r);
    }
    return r;
}

void send_new(RouteSocket& sock, const RouteSpec& spec, int flags) {
    detail::MsgPtr msg = route_msg(RTM_NEWROUTE, NLM_F_CREATE | flags, spec, false);
    detail::request(sock, msg.get(), "RTM_NEWROUTE", label(spec));
}

}  // namespace

void add_route(RouteSocket& sock, const RouteSpec& spec) {
    send_new(sock, spec, NLM_F_EXCL);
}

void append_route(RouteSocket& sock, const RouteSpec& spec) {
    send_new(sock, spec, NLM_F_APPEND);
}

void replace_route(RouteSocket& sock, const RouteSpec& spec) {
    send_new(sock, spec, NLM_F_REPLACE);
}

bool remove_route(RouteSocket& sock, const RouteSpec& spec) {
    detail::MsgPtr msg = route_msg(RTM_DELROUTE, 0, spec, true);
    int err = detail::try_request(sock, msg.get());
    if (err == ESRCH) {
        return false;
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_DELROUTE", label(spec));
    }
    return true;
}

std::vector<RouteSpec> list_routes(RouteSocket& sock, std::optional<Family> family,
                                   std::optional<int> table) {
    int want = table.value_or(kMainTable);
    std::vector<RouteSpec> out;
    auto make = [&] {
        rtmsg hdr{};
        hdr.rtm_family = static_cast<unsigned char>(family ? to_af(*family) : AF_UNSPEC);
        hdr.rtm_table = static_cast<unsigned char>(want < 256 ? want : int{RT_TABLE_UNSPEC});
        detail::MsgPtr msg = detail::new_msg(RTM_GETROUTE, NLM_F_DUMP, hdr);
        detail::put_u32(msg.get(), RTA_TABLE, static_cast<std::uint32_t>(want));
        return msg;
    };
    auto on_msg = [&](nl_msg* msg) {
        if (auto r = parse_route(msg, want)) {
            out.push_back(*r);
        }
    };
    int err = detail::try_dump(sock, make, on_msg, [&] { out.clear(); });
    if (err == ENOENT) {
        return {};  // with strict checking: "FIB table does not exist"
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_GETROUTE", "table " + std::to_string(want));
    }
    return out;
}

std::optional<int> route_output_ifindex(RouteSocket& sock, const IpAddr& dst) {
    rtmsg hdr{};
    hdr.rtm_family = static_cast<unsigned char>(to_af(dst.family()));
    hdr.rtm_dst_len = static_cast<unsigned char>(dst.bit_len());
    detail::MsgPtr msg = detail::new_msg(RTM_GETROUTE, 0, hdr);
    detail::put_addr(msg.get(), RTA_DST, dst);
    std::optional<int> oif;
    int err = detail::try_request(sock, msg.get(), [&](nl_msg* reply) {
        nlmsghdr* h = nlmsg_hdr(reply);
        nlattr* tb[RTA_MAX + 1] = {};
        if (h->nlmsg_type == RTM_NEWROUTE &&
            nlmsg_parse(h, sizeof(rtmsg), tb, RTA_MAX, nullptr) >= 0 && tb[RTA_OIF] != nullptr) {
            oif = static_cast<int>(nla_get_u32(tb[RTA_OIF]));
        }
    });
    if (err == ENETUNREACH || err == EHOSTUNREACH || err == ESRCH) {
        return std::nullopt;
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_GETROUTE", dst.to_string());
    }
    return oif;
}

}  // namespace netlib
