#include "netlib/link.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <new>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/object.h>
#include <netlink/route/link/ipvlan.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/vlan.h>

#include "netlib/link_internal.hpp"

namespace netlib {
namespace detail {
namespace {

struct ParseCtx {
    std::optional<LinkInfo>* out;
    std::exception_ptr exc;
};

// Runs inside libnl's C frames: no exception may escape.
void on_parsed_link(nl_object* obj, void* arg) {
    auto* ctx = static_cast<ParseCtx*>(arg);
    try {
        *ctx->out = to_info(reinterpret_cast<rtnl_link*>(obj));
    } catch (...) {
        ctx->exc = std::current_exception();
    }
}

}  // namespace

LinkPtr new_link() {
    LinkPtr link{rtnl_link_alloc()};
    if (!link) {
        throw std::bad_alloc();
    }
    return link;
}

NlAddrPtr mac_nl_addr(const MacAddr& mac) {
    NlAddrPtr addr{nl_addr_build(AF_LLC, mac.bytes().data(), mac.bytes().size())};
    if (!addr) {
        throw std::bad_alloc();
    }
    return addr;
}

LinkInfo to_info(rtnl_link* link) {
    LinkInfo info;
    info.index = rtnl_link_get_ifindex(link);
    const char* name = rtnl_link_get_name(link);
    info.name = name != nullptr ? name : "";
    const char* kind = rtnl_link_get_type(link);
    info.kind = kind != nullptr ? kind : "";
    if (nl_addr* a = rtnl_link_get_addr(link); a != nullptr && nl_addr_get_len(a) == 6) {
        std::array<std::uint8_t, 6> b{};
        std::memcpy(b.data(), nl_addr_get_binary_addr(a), b.size());
        info.mac = MacAddr{b};
    }
    info.mtu = rtnl_link_get_mtu(link);
    unsigned flags = rtnl_link_get_flags(link);
    info.up = (flags & IFF_UP) != 0;
    std::uint8_t oper = rtnl_link_get_operstate(link);
    info.oper_up = oper == IF_OPER_UP || (oper == IF_OPER_UNKNOWN && (flags & IFF_RUNNING) != 0);
    info.master = rtnl_link_get_master(link);
    info.peer_index = rtnl_link_get_link(link);
    info.promisc = (flags & IFF_PROMISC) != 0;
    info.txqlen = rtnl_link_get_txqlen(link);
    info.allmulti = (flags & IFF_ALLMULTI) != 0;
    const char* alias = rtnl_link_get_ifalias(link);
    info.alias = alias != nullptr ? alias : "";
    if (info.kind == "macvlan" || info.kind == "macvtap") {
        std::array<char, 32> mode{};
        rtnl_link_macvlan_mode2str(static_cast<int>(rtnl_link_macvlan_get_mode(link)), mode.data(),
                                   mode.size());
        info.mode = mode.data();
    } else if (std::uint16_t ipvlan_mode = 0;
               info.kind == "ipvlan" && rtnl_link_ipvlan_get_mode(link, &ipvlan_mode) == 0) {
        std::array<char, 32> mode{};
        rtnl_link_ipvlan_mode2str(ipvlan_mode, mode.data(), mode.size());
        info.mode = mode.data();
    } else if (info.kind == "vlan") {
        info.vlan_id = static_cast<unsigned>(rtnl_link_vlan_get_id(link));
    }
    return info;
}

namespace {

std::string ipvlan_flag_name(std::uint16_t flags) {
    if ((flags & IPVLAN_F_PRIVATE) != 0) {
        return "private";
    }
    return (flags & IPVLAN_F_VEPA) != 0 ? "vepa" : "bridge";
}

// What libnl 3.7 does not parse: an ipvlan's flags, a tun device's owner and group.
void add_unparsed_kind_data(nl_msg* msg, LinkInfo& info) {
    if (info.kind != "ipvlan" && info.kind != "tun") {
        return;
    }
    nlattr* li[IFLA_INFO_MAX + 1] = {};
    if (!parse_link_info(msg, li) || li[IFLA_INFO_DATA] == nullptr) {
        return;
    }
    if (info.kind == "ipvlan") {
        nlattr* data[IFLA_IPVLAN_MAX + 1] = {};
        if (nla_parse_nested(data, IFLA_IPVLAN_MAX, li[IFLA_INFO_DATA], nullptr) >= 0) {
            info.ipvlan_flag = ipvlan_flag_name(
                data[IFLA_IPVLAN_FLAGS] != nullptr ? nla_get_u16(data[IFLA_IPVLAN_FLAGS]) : 0);
        }
        return;
    }
    nlattr* data[IFLA_TUN_MAX + 1] = {};
    if (nla_parse_nested(data, IFLA_TUN_MAX, li[IFLA_INFO_DATA], nullptr) >= 0) {
        if (data[IFLA_TUN_OWNER] != nullptr) {
            info.tun_owner = nla_get_u32(data[IFLA_TUN_OWNER]);
        }
        if (data[IFLA_TUN_GROUP] != nullptr) {
            info.tun_group = nla_get_u32(data[IFLA_TUN_GROUP]);
        }
    }
}

}  // namespace

MsgHandler link_collector(std::optional<LinkInfo>& out) {
    return [&out](nl_msg* msg) {
        if (nlmsg_hdr(msg)->nlmsg_type != RTM_NEWLINK) {
            return;
        }
        // libnl's own parser knows every kind's IFLA_INFO_DATA layout.
        ParseCtx ctx{&out, nullptr};
        nl_msg_parse(msg, on_parsed_link, &ctx);
        if (ctx.exc) {
            std::rethrow_exception(ctx.exc);
        }
        if (out) {
            add_unparsed_kind_data(msg, *out);
        }
    };
}

int try_send_built(RouteSocket& sock, int rc, nl_msg* raw, std::string_view op,
                   std::string_view object, const MsgHandler& on_reply) {
    MsgPtr msg{raw};
    if (rc < 0) {
        throw Error(EINVAL, op, object, std::string{"building request: "} + nl_geterror(rc));
    }
    return try_request(sock, msg.get(), on_reply);
}

void change_link(RouteSocket& sock, int index, rtnl_link* changes) {
    LinkPtr orig = new_link();
    rtnl_link_set_ifindex(orig.get(), index);
    nl_msg* raw = nullptr;
    int rc = rtnl_link_build_change_request(orig.get(), changes, 0, &raw);
    auto op =
        raw != nullptr && nlmsg_hdr(raw)->nlmsg_type == RTM_SETLINK ? "RTM_SETLINK" : "RTM_NEWLINK";
    if (int err = try_send_built(sock, rc, raw, op, "#" + std::to_string(index)); err != 0) {
        std::string detail = sock.impl().last_ack;
        throw Error(err, op, link_label(sock, index), detail);
    }
}

std::string link_label(RouteSocket& sock, int index) {
    std::string label = "#" + std::to_string(index);
    try {
        if (auto info = find_link(sock, index)) {
            return info->name + " (" + label + ")";
        }
    } catch (const Error&) {
        // Only decorates another error; keep the bare index.
    }
    return label;
}

}  // namespace detail

namespace {

bool valid_name(std::string_view name) {
    return !name.empty() && name.size() < IFNAMSIZ;
}

std::optional<LinkInfo> get_link(RouteSocket& sock, int index, const char* name) {
    nl_msg* raw = nullptr;
    int rc = rtnl_link_build_get_request(index, name, &raw);
    std::optional<LinkInfo> out;
    std::string object = name != nullptr ? name : "#" + std::to_string(index);
    int err =
        detail::try_send_built(sock, rc, raw, "RTM_GETLINK", object, detail::link_collector(out));
    if (err == ENODEV) {
        return std::nullopt;
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_GETLINK", object);
    }
    return out;
}

template <class Setter>
void change(RouteSocket& sock, int index, Setter&& set) {
    detail::LinkPtr changes = detail::new_link();
    set(changes.get());
    detail::change_link(sock, index, changes.get());
}

bool delete_link(RouteSocket& sock, rtnl_link* link, const std::string& object) {
    nl_msg* raw = nullptr;
    int rc = rtnl_link_build_delete_request(link, &raw);
    int err = detail::try_send_built(sock, rc, raw, "RTM_DELLINK", object);
    if (err == ENODEV) {
        return false;
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_DELLINK", object);
    }
    return true;
}

}  // namespace

std::optional<LinkInfo> find_link(RouteSocket& sock, std::string_view name) {
    if (!valid_name(name)) {
        return std::nullopt;  // the kernel cannot hold such a name
    }
    return get_link(sock, 0, std::string{name}.c_str());
}

std::optional<LinkInfo> find_link(RouteSocket& sock, int index) {
    if (index <= 0) {
        return std::nullopt;
    }
    return get_link(sock, index, nullptr);
}

std::vector<LinkInfo> list_links(RouteSocket& sock) {
    std::vector<LinkInfo> links;
    std::optional<LinkInfo> one;
    detail::MsgHandler collect = detail::link_collector(one);
    auto make = [] {
        ifinfomsg hdr{};
        hdr.ifi_family = AF_UNSPEC;
        return detail::new_msg(RTM_GETLINK, NLM_F_DUMP, hdr);
    };
    auto on_msg = [&](nl_msg* msg) {
        one.reset();
        collect(msg);
        if (one) {
            links.push_back(std::move(*one));
        }
    };
    if (int err = detail::try_dump(sock, make, on_msg, [&] { links.clear(); }); err != 0) {
        detail::fail(sock, err, "RTM_GETLINK", "dump");
    }
    return links;
}

void set_up(RouteSocket& sock, int index, bool up) {
    change(sock, index, [up](rtnl_link* l) {
        up ? rtnl_link_set_flags(l, IFF_UP) : rtnl_link_unset_flags(l, IFF_UP);
    });
}

void set_master(RouteSocket& sock, int index, int master_index) {
    change(sock, index, [master_index](rtnl_link* l) { rtnl_link_set_master(l, master_index); });
}

void set_mtu(RouteSocket& sock, int index, unsigned mtu) {
    change(sock, index, [mtu](rtnl_link* l) { rtnl_link_set_mtu(l, mtu); });
}

void set_mac(RouteSocket& sock, int index, const MacAddr& mac) {
    detail::NlAddrPtr addr = detail::mac_nl_addr(mac);
    change(sock, index, [&addr](rtnl_link* l) { rtnl_link_set_addr(l, addr.get()); });
}

void set_name(RouteSocket& sock, int index, const std::string& name) {
    change(sock, index, [&name](rtnl_link* l) { rtnl_link_set_name(l, name.c_str()); });
}

void set_promisc(RouteSocket& sock, int index, bool on) {
    change(sock, index, [on](rtnl_link* l) {
        on ? rtnl_link_set_flags(l, IFF_PROMISC) : rtnl_link_unset_flags(l, IFF_PROMISC);
    });
}

bool remove_link(RouteSocket& sock, std::string_view name) {
    if (!valid_name(name)) {
        return false;
    }
    detail::LinkPtr link = detail::new_link();
    std::string n{name};
    rtnl_link_set_name(link.get(), n.c_str());
    return delete_link(sock, link.get(), n);
}

bool remove_link(RouteSocket& sock, int index) {
    if (index <= 0) {
        return false;
    }
    detail::LinkPtr link = detail::new_link();
    rtnl_link_set_ifindex(link.get(), index);
    return delete_link(sock, link.get(), "#" + std::to_string(index));
}

}  // namespace netlib
