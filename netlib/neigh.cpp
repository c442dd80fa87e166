// FDB entries of a VXLAN device and permanent neighbour entries, over RTM_*NEIGH.

#include "netlib/neigh.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "netlib/route_socket_internal.hpp"

namespace netlib {
namespace {

std::string fdb_label(int ifindex, const FdbEntry& e) {
    return "fdb " + e.mac.to_string() + " dst " + e.dst.to_string() + " dev #" +
           std::to_string(ifindex);
}

std::string neigh_label(int ifindex, const IpAddr& ip) {
    return ip.to_string() + " dev #" + std::to_string(ifindex);
}

detail::MsgPtr neigh_msg(int type, int flags, int family, int ifindex, std::uint8_t ntf) {
    ndmsg hdr{};
    hdr.ndm_family = static_cast<std::uint8_t>(family);
    hdr.ndm_ifindex = ifindex;
    hdr.ndm_state = NUD_PERMANENT;
    hdr.ndm_flags = ntf;
    return detail::new_msg(type, flags, hdr);
}

void put_mac(nl_msg* m, const MacAddr& mac) {
    detail::put(m, NDA_LLADDR, mac.bytes().data(), mac.bytes().size());
}

std::optional<MacAddr> get_mac(nlattr* attr) {
    if (attr == nullptr || nla_len(attr) != 6) {
        return std::nullopt;
    }
    std::array<std::uint8_t, 6> b{};
    std::memcpy(b.data(), nla_data(attr), b.size());
    return MacAddr{b};
}

void send_fdb(RouteSocket& sock, int ifindex, const FdbEntry& e, int flags) {
    detail::MsgPtr msg =
        neigh_msg(RTM_NEWNEIGH, NLM_F_CREATE | flags, AF_BRIDGE, ifindex, NTF_SELF);
    put_mac(msg.get(), e.mac);
    detail::put_addr(msg.get(), NDA_DST, e.dst);
    detail::request(sock, msg.get(), "RTM_NEWNEIGH", fdb_label(ifindex, e));
}

// An RTM_DELNEIGH; false when there was nothing to delete (or no such device).
bool send_delete(RouteSocket& sock, nl_msg* msg, const std::string& label) {
    int err = detail::try_request(sock, msg);
    if (err == ENOENT || err == ENODEV) {
        return false;
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_DELNEIGH", label);
    }
    return true;
}

// A dump of neighbour table `family`, filtered by the kernel to `ifindex` (strict checking) and
// here again (kernels without it dump every device).
template <class OnEntry>
void dump_neighs(RouteSocket& sock, int family, int ifindex, const std::string& what,
                 OnEntry&& on_entry, const std::function<void()>& restart) {
    auto make = [&] {
        ndmsg hdr{};
        hdr.ndm_family = static_cast<std::uint8_t>(family);
        if (family == AF_BRIDGE) {
            hdr.ndm_ifindex = ifindex;  // the FDB dump's port filter
            return detail::new_msg(RTM_GETNEIGH, NLM_F_DUMP, hdr);
        }
        detail::MsgPtr msg = detail::new_msg(RTM_GETNEIGH, NLM_F_DUMP, hdr);
        detail::put_u32(msg.get(), NDA_IFINDEX, static_cast<std::uint32_t>(ifindex));
        return msg;
    };
    auto on_msg = [&](nl_msg* msg) {
        nlmsghdr* h = nlmsg_hdr(msg);
        if (h->nlmsg_type != RTM_NEWNEIGH) {
            return;
        }
        const auto* ndm = static_cast<const ndmsg*>(nlmsg_data(h));
        nlattr* tb[NDA_MAX + 1] = {};
        if (ndm->ndm_ifindex != ifindex ||
            nlmsg_parse(h, sizeof(ndmsg), tb, NDA_MAX, nullptr) < 0) {
            return;
        }
        on_entry(*ndm, tb);
    };
    if (int err = detail::try_dump(sock, make, on_msg, restart); err != 0) {
        detail::fail(sock, err, "RTM_GETNEIGH", what + " dev #" + std::to_string(ifindex));
    }
}

}  // namespace

void append_fdb(RouteSocket& sock, int ifindex, const FdbEntry& entry) {
    send_fdb(sock, ifindex, entry, NLM_F_APPEND);
}

void replace_fdb(RouteSocket& sock, int ifindex, const FdbEntry& entry) {
    send_fdb(sock, ifindex, entry, NLM_F_REPLACE);
}

bool remove_fdb(RouteSocket& sock, int ifindex, const FdbEntry& entry) {
    detail::MsgPtr msg = neigh_msg(RTM_DELNEIGH, 0, AF_BRIDGE, ifindex, NTF_SELF);
    put_mac(msg.get(), entry.mac);
    detail::put_addr(msg.get(), NDA_DST, entry.dst);
    return send_delete(sock, msg.get(), fdb_label(ifindex, entry));
}

std::vector<FdbEntry> list_fdb(RouteSocket& sock, int ifindex) {
    std::vector<FdbEntry> out;
    auto on_entry = [&](const ndmsg& ndm, nlattr** tb) {
        auto mac = get_mac(tb[NDA_LLADDR]);
        if ((ndm.ndm_flags & NTF_SELF) == 0 || !mac || tb[NDA_DST] == nullptr) {
            return;  // the bridge's entries for this port, or an entry without a remote
        }
        if (auto dst = detail::get_addr(tb[NDA_DST])) {
            out.push_back({*mac, *dst});
        }
    };
    dump_neighs(sock, AF_BRIDGE, ifindex, "fdb", on_entry, [&] { out.clear(); });
    return out;
}

void replace_neigh(RouteSocket& sock, int ifindex, const NeighEntry& entry) {
    detail::MsgPtr msg =
        neigh_msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, to_af(entry.ip.family()), ifindex, 0);
    detail::put_addr(msg.get(), NDA_DST, entry.ip);
    put_mac(msg.get(), entry.mac);
    detail::request(sock, msg.get(), "RTM_NEWNEIGH",
                    neigh_label(ifindex, entry.ip) + " lladdr " + entry.mac.to_string());
}

bool remove_neigh(RouteSocket& sock, int ifindex, const IpAddr& ip) {
    detail::MsgPtr msg = neigh_msg(RTM_DELNEIGH, 0, to_af(ip.family()), ifindex, 0);
    detail::put_addr(msg.get(), NDA_DST, ip);
    return send_delete(sock, msg.get(), neigh_label(ifindex, ip));
}

std::vector<NeighEntry> list_permanent_neighs(RouteSocket& sock, int ifindex) {
    std::vector<NeighEntry> out;
    auto on_entry = [&](const ndmsg& ndm, nlattr** tb) {
        auto mac = get_mac(tb[NDA_LLADDR]);
        if ((ndm.ndm_state & NUD_PERMANENT) == 0 || !mac || tb[NDA_DST] == nullptr) {
            return;
        }
        if (auto ip = detail::get_addr(tb[NDA_DST])) {
            out.push_back({*ip, *mac});
        }
    };
    for (int family : {AF_INET, AF_INET6}) {
        std::size_t before = out.size();
        dump_neighs(sock, family, ifindex, "neigh", on_entry, [&] { out.resize(before); });
    }
    return out;
}

}  // namespace netlib
