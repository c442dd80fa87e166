#include "netlib/bridge_port_wait.hpp"

#include <cerrno>
#include <optional>
#include <string>

#include <poll.h>

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/link_internal.hpp"

namespace netlib {
namespace {

using SockPtr = CPtr<nl_sock, &nl_socket_free>;

// The last state the link notifications reported for port `ifindex`. AF_BRIDGE notifications
// (the bridge's own, sent on every port state change) carry it in IFLA_PROTINFO; AF_UNSPEC ones
// in IFLA_LINKINFO/IFLA_INFO_SLAVE_DATA.
struct Watch {
    int ifindex;
    std::optional<std::uint8_t> state;
};

std::optional<std::uint8_t> protinfo_state(nlattr* protinfo) {
    nlattr* bp[IFLA_BRPORT_MAX + 1] = {};
    if (nla_parse_nested(bp, IFLA_BRPORT_MAX, protinfo, nullptr) < 0 ||
        bp[IFLA_BRPORT_STATE] == nullptr) {
        return std::nullopt;
    }
    return nla_get_u8(bp[IFLA_BRPORT_STATE]);
}

int on_event(nl_msg* msg, void* arg) {
    auto& watch = *static_cast<Watch*>(arg);
    nlmsghdr* hdr = nlmsg_hdr(msg);
    nlattr* tb[IFLA_MAX + 1] = {};
    if (hdr->nlmsg_type != RTM_NEWLINK ||
        static_cast<const ifinfomsg*>(nlmsg_data(hdr))->ifi_index != watch.ifindex ||
        nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0) {
        return NL_OK;
    }
    if (tb[IFLA_PROTINFO] != nullptr) {
        if (auto s = protinfo_state(tb[IFLA_PROTINFO])) {
            watch.state = s;
        }
    } else if (auto port = detail::parse_bridge_port(msg)) {
        watch.state = port->state;
    }
    return NL_OK;
}

SockPtr subscribe_links(Watch& watch) {
    SockPtr sock{nl_socket_alloc()};
    if (!sock) {
        throw Error(ENOMEM, "nl_socket_alloc", "RTNLGRP_LINK");
    }
    nl_socket_disable_seq_check(sock.get());  // notifications carry sequence 0
    nl_socket_modify_cb(sock.get(), NL_CB_VALID, NL_CB_CUSTOM, on_event, &watch);
    if (int rc = nl_connect(sock.get(), NETLINK_ROUTE); rc < 0) {
        throw Error(EIO, "nl_connect", "NETLINK_ROUTE", nl_geterror(rc));
    }
    if (int rc = nl_socket_add_membership(sock.get(), RTNLGRP_LINK); rc < 0) {
        throw Error(EIO, "subscribe", "RTNLGRP_LINK", nl_geterror(rc));
    }
    return sock;
}

std::uint8_t read_state(RouteSocket& sock, int ifindex) {
    auto port = bridge_port_info(sock, ifindex);
    if (!port) {
        throw Error(EINVAL, "bridge port", "#" + std::to_string(ifindex),
                    "the link is not a bridge port");
    }
    return port->state;
}

}  // namespace

std::uint8_t wait_bridge_port_enabled(RouteSocket& sock, int ifindex,
                                      std::chrono::milliseconds timeout) {
    Watch watch{ifindex, std::nullopt};
    SockPtr events = subscribe_links(watch);
    std::uint8_t state = read_state(sock, ifindex);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (state == BR_STATE_DISABLED) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{nl_socket_get_fd(events.get()), POLLIN, 0};
        int rc = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        check_errno(rc, "poll", "RTNLGRP_LINK");
        if (rc == 0) {
            break;
        }
        if (nl_recvmsgs_default(events.get()) == -NLE_NOMEM) {
            state = read_state(sock, ifindex);  // ENOBUFS: notifications were dropped
        } else if (watch.state) {
            state = *watch.state;
        }
    }
    return state;
}

}  // namespace netlib
