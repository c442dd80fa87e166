#include "netlib/addr.hpp"

#include <cerrno>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "netlib/route_socket_internal.hpp"

namespace netlib {
namespace {

std::string label(const IpNet& addr, int ifindex) {
    return addr.to_string() + " dev #" + std::to_string(ifindex);
}

detail::MsgPtr addr_msg(int type, int flags, int ifindex, const IpNet& addr) {
    ifaddrmsg hdr{};
    hdr.ifa_family = static_cast<unsigned char>(to_af(addr.family()));
    hdr.ifa_prefixlen = static_cast<unsigned char>(addr.prefix());
    hdr.ifa_index = static_cast<unsigned>(ifindex);
    detail::MsgPtr msg = detail::new_msg(type, flags, hdr);
    // IPv4 matches on IFA_LOCAL, IPv6 on IFA_ADDRESS; sending both is what iproute2 does.
    detail::put_addr(msg.get(), IFA_LOCAL, addr.addr());
    detail::put_addr(msg.get(), IFA_ADDRESS, addr.addr());
    return msg;
}

void on_addr(nl_msg* msg, int ifindex, std::optional<Family> family, std::vector<IpNet>& out) {
    nlmsghdr* hdr = nlmsg_hdr(msg);
    if (hdr->nlmsg_type != RTM_NEWADDR) {
        return;
    }
    const auto* ifa = static_cast<const ifaddrmsg*>(nlmsg_data(hdr));
    nlattr* tb[IFA_MAX + 1] = {};
    // Also filtered here: kernels without strict checking ignore the index in the request.
    if ((ifindex != 0 && static_cast<int>(ifa->ifa_index) != ifindex) ||
        nlmsg_parse(hdr, sizeof(ifaddrmsg), tb, IFA_MAX, nullptr) < 0) {
        return;
    }
    // On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours when present.
    nlattr* a = tb[IFA_LOCAL] != nullptr ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
    if (a == nullptr) {
        return;
    }
    if (auto ip = detail::get_addr(a); ip && (!family || ip->family() == *family)) {
        out.emplace_back(*ip, ifa->ifa_prefixlen);
    }
}

}  // namespace

void add_address(RouteSocket& sock, int ifindex, const IpNet& addr, AddrFlags flags) {
    detail::MsgPtr msg = addr_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, addr);
    if (addr.family() == Family::V4 && addr.prefix() < 31) {
        detail::put_addr(msg.get(), IFA_BROADCAST, addr.last());
    }
    std::uint32_t f =
        (flags.nodad ? IFA_F_NODAD : 0U) | (flags.noprefixroute ? IFA_F_NOPREFIXROUTE : 0U);
    if (f != 0) {
        detail::put_u32(msg.get(), IFA_FLAGS, f);  // IFA_F_NOPREFIXROUTE does not fit ifa_flags
    }
    detail::request(sock, msg.get(), "RTM_NEWADDR", label(addr, ifindex));
}

bool remove_address(RouteSocket& sock, int ifindex, const IpNet& addr) {
    detail::MsgPtr msg = addr_msg(RTM_DELADDR, 0, ifindex, addr);
    int err = detail::try_request(sock, msg.get());
    if (err == EADDRNOTAVAIL) {
        return false;
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_DELADDR", label(addr, ifindex));
    }
    return true;
}

std::vector<IpNet> list_addresses(RouteSocket& sock, int ifindex, std::optional<Family> family) {
    std::vector<IpNet> out;
    auto make = [&] {
        ifaddrmsg hdr{};
        hdr.ifa_family = static_cast<unsigned char>(family ? to_af(*family) : AF_UNSPEC);
        hdr.ifa_index = static_cast<unsigned>(ifindex);  // honoured with NETLINK_GET_STRICT_CHK
        return detail::new_msg(RTM_GETADDR, NLM_F_DUMP, hdr);
    };
    auto on_msg = [&](nl_msg* msg) { on_addr(msg, ifindex, family, out); };
    int err = detail::try_dump(sock, make, on_msg, [&] { out.clear(); });
    if (err != 0) {
        detail::fail(sock, err, "RTM_GETADDR", "dev #" + std::to_string(ifindex));
    }
    return out;
}

}  // namespace netlib
