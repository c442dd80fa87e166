#include "netlib/bridge_port_wait.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include <poll.h>
#include <sys/socket.h>

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "netlib/error.hpp"
#include "netlib/fd.hpp"

namespace netlib {
namespace {

constexpr int kNoState = -1;
constexpr std::uint32_t kRequestSeq = 1;  // events carry sequence 0

const rtattr* find_attr(const rtattr* rta, int len, unsigned short type) {
    for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
        if ((rta->rta_type & NLA_TYPE_MASK) == type) {
            return rta;
        }
    }
    return nullptr;
}

int nested_state(const rtattr* nest) {
    const auto* state = find_attr(static_cast<const rtattr*>(RTA_DATA(nest)),
                                  static_cast<int>(RTA_PAYLOAD(nest)), IFLA_BRPORT_STATE);
    return state != nullptr ? *static_cast<const std::uint8_t*>(RTA_DATA(state)) : kNoState;
}

// The port state from IFLA_PROTINFO (AF_BRIDGE notifications) or from
// IFLA_LINKINFO/IFLA_INFO_SLAVE_DATA (RTM_GETLINK replies).
int port_state(const nlmsghdr* h, int ifindex) {
    if (h->nlmsg_type != RTM_NEWLINK) {
        return kNoState;
    }
    const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
    if (ifi->ifi_index != ifindex) {
        return kNoState;
    }
    const auto* attrs = IFLA_RTA(ifi);
    int len = static_cast<int>(IFLA_PAYLOAD(h));
    if (const auto* protinfo = find_attr(attrs, len, IFLA_PROTINFO)) {
        return nested_state(protinfo);
    }
    const auto* linkinfo = find_attr(attrs, len, IFLA_LINKINFO);
    if (linkinfo == nullptr) {
        return kNoState;
    }
    const auto* slave = find_attr(static_cast<const rtattr*>(RTA_DATA(linkinfo)),
                                  static_cast<int>(RTA_PAYLOAD(linkinfo)), IFLA_INFO_SLAVE_DATA);
    return slave != nullptr ? nested_state(slave) : kNoState;
}

Fd subscribe_links() {
    Fd fd{::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)};
    check_errno(fd.get(), "socket", "NETLINK_ROUTE");
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = RTMGRP_LINK;
    check_errno(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), "bind",
                "RTMGRP_LINK");
    return fd;
}

void request_link(const Fd& fd, int ifindex) {
    struct {
        nlmsghdr h;
        ifinfomsg ifi;
    } req{};

    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = RTM_GETLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST;
    req.h.nlmsg_seq = kRequestSeq;
    req.ifi.ifi_family = AF_UNSPEC;
    req.ifi.ifi_index = ifindex;
    check_errno(::send(fd.get(), &req, sizeof req, 0), "RTM_GETLINK",
                "ifindex " + std::to_string(ifindex));
}

// Reads one datagram; returns the port state it reports, kNoState if it says nothing.
int read_state(const Fd& fd, int ifindex) {
    alignas(nlmsghdr) std::array<char, 16384> buf;
    ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (n < 0 && (errno == EINTR || errno == ENOBUFS)) {
        return kNoState;  // ENOBUFS: events were dropped; the next one still carries the state
    }
    check_errno(n, "recv", "RTMGRP_LINK");
    int state = kNoState;
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == NLMSG_ERROR) {
            int err = -static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
            if (err != 0) {
                throw Error(err, "RTM_GETLINK", "ifindex " + std::to_string(ifindex));
            }
        }
        int s = port_state(h, ifindex);
        if (s == kNoState && h->nlmsg_type == RTM_NEWLINK && h->nlmsg_seq == kRequestSeq) {
            throw Error(EINVAL, "bridge port", "ifindex " + std::to_string(ifindex),
                        "the link is not a bridge port");
        }
        if (s != kNoState) {
            state = s;
        }
    }
    return state;
}

}  // namespace

void wait_bridge_port_forwarding(int ifindex, std::chrono::milliseconds timeout) {
    Fd fd = subscribe_links();  // subscribe before reading, so no change can slip in between
    request_link(fd, ifindex);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int state = kNoState;
    while (state != BR_STATE_FORWARDING) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd.get(), POLLIN, 0};
        int rc = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        check_errno(rc, "poll", "RTMGRP_LINK");
        if (rc == 0) {
            throw Error(
                ETIMEDOUT, "bridge port", "ifindex " + std::to_string(ifindex),
                "port did not reach the forwarding state, last state " + std::to_string(state));
        }
        if (int s = read_state(fd, ifindex); s != kNoState) {
            state = s;
        }
    }
}

}  // namespace netlib
