#pragma once

// netlib-private libnl plumbing shared by route_socket.cpp, link*.cpp, addr.cpp and route.cpp.
// Only netlib .cpp files may include this header (it pulls in libnl).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <netlink/attr.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "netlib/c_ptr.hpp"
#include "netlib/error.hpp"
#include "netlib/ip.hpp"
#include "netlib/route_socket.hpp"

namespace netlib {

struct RouteSocket::Impl {
    CPtr<nl_sock, &nl_socket_free> sock;
    // Filled by the socket's error callback: the kernel's errno (positive) and the extended ack
    // message (NLMSGERR_ATTR_MSG), so an Error can say *why* the kernel refused.
    int last_errno = 0;
    std::string last_ack;

    nl_sock* get() const noexcept { return sock.get(); }

    void clear() noexcept {
        last_errno = 0;
        last_ack.clear();
    }
};

namespace detail {

using MsgPtr = CPtr<nl_msg, &nlmsg_free>;
// Called for every data message of a reply (one for a doit request, many for a dump).
using MsgHandler = std::function<void(nl_msg*)>;

// A request of `type` with NLM_F_REQUEST|`flags` and the fixed header `hdr` (ifinfomsg, ...).
template <class Header>
[[nodiscard]] MsgPtr new_msg(int type, int flags, const Header& hdr);
[[nodiscard]] MsgPtr new_msg_raw(int type, int flags, const void* hdr, std::size_t len);

template <class Header>
MsgPtr new_msg(int type, int flags, const Header& hdr) {
    return new_msg_raw(type, flags, &hdr, sizeof hdr);
}

// Attribute builders; they throw Error(EMSGSIZE) if the message is full.
void put(nl_msg* msg, int type, const void* data, std::size_t len);
void put_u8(nl_msg* msg, int type, std::uint8_t v);
void put_u32(nl_msg* msg, int type, std::uint32_t v);
void put_addr(nl_msg* msg, int type, const IpAddr& addr);
nlattr* nest_start(nl_msg* msg, int type);
void nest_end(nl_msg* msg, nlattr* start);

// Reads an address attribute of `family`; nullopt when the payload has the wrong length.
std::optional<IpAddr> get_addr(const nlattr* attr);

// Sends `msg` (libnl adds NLM_F_ACK) and reads until the ack, the error or the end of a dump.
// Returns 0 or the positive errno; the kernel's extended ack text is in impl().last_ack.
[[nodiscard]] int try_request(RouteSocket& sock, nl_msg* msg, const MsgHandler& on_reply = {});
// try_request() that throws Error(errno, op, object, ext-ack) on failure.
void request(RouteSocket& sock, nl_msg* msg, std::string_view op, std::string_view object,
             const MsgHandler& on_reply = {});
// Runs a dump built by `make`, restarting (after `restart()`) when the kernel flags it
// NLM_F_DUMP_INTR (the table changed under us); gives up with EAGAIN after 5 attempts.
// Returns 0 or the positive errno (callers decide whether, e.g., ENOENT means "empty").
[[nodiscard]] int try_dump(RouteSocket& sock, const std::function<MsgPtr()>& make,
                           const MsgHandler& on_msg, const std::function<void()>& restart);
// Throws Error(err, op, object) with the socket's last ext-ack text as detail.
[[noreturn]] void fail(RouteSocket& sock, int err, std::string_view op, std::string_view object);

}  // namespace detail
}  // namespace netlib
