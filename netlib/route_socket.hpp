#pragma once

#include <memory>

struct nl_sock;

namespace netlib {

class Netns;

// A NETLINK_ROUTE socket (libnl), connected, with extended acks (NETLINK_EXT_ACK +
// NETLINK_CAP_ACK) so kernel errors carry the kernel's explanation, and strict checking
// (NETLINK_GET_STRICT_CHK) so dumps can be filtered in the kernel. A netlink socket stays bound
// to the network namespace it was created in: every call made through it acts there, whatever
// namespace the calling thread is in later. Move-only; not thread-safe (one socket per thread).
class RouteSocket {
public:
    // A socket in the calling thread's current network namespace. Throws Error.
    [[nodiscard]] static RouteSocket open();
    // A socket in `ns`: the calling thread enters `ns` just long enough to create the socket.
    [[nodiscard]] static RouteSocket open_in(const Netns& ns);

    RouteSocket(RouteSocket&&) noexcept;
    RouteSocket& operator=(RouteSocket&&) noexcept;
    RouteSocket(const RouteSocket&) = delete;
    RouteSocket& operator=(const RouteSocket&) = delete;
    ~RouteSocket();

    // netlib internals only (see route_socket_internal.hpp).
    struct Impl;

    Impl& impl() const noexcept { return *impl_; }

private:
    explicit RouteSocket(std::unique_ptr<Impl> impl) noexcept;

    std::unique_ptr<Impl> impl_;
};

}  // namespace netlib
