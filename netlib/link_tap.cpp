// tap devices: created through /dev/net/tun (the tun driver has no netlink creation), made
// persistent so that they outlive the file descriptor, in the netns of the calling thread.

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>

#include <fcntl.h>
#include <sys/ioctl.h>

#include <linux/if.h>
#include <linux/if_tun.h>

#include "netlib/error.hpp"
#include "netlib/fd.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"

namespace netlib {
namespace {

void tun_ioctl(const Fd& fd, unsigned long request, unsigned long value, const char* op,
               const std::string& name) {
    if (::ioctl(fd.get(), request, value) < 0) {
        throw Error(errno, op, name);
    }
}

}  // namespace

LinkInfo create_tap(const Netns& netns, const TapSpec& spec) {
    std::optional<NetnsGuard> in;
    in.emplace(netns);  // the tun driver creates the device in the caller's netns
    Fd fd{::open("/dev/net/tun", O_RDWR | O_CLOEXEC)};
    if (fd.get() < 0) {
        throw Error(errno, "open", "/dev/net/tun");
    }
    ifreq req{};
    std::strncpy(req.ifr_name, spec.name.c_str(), IFNAMSIZ - 1);
    // IFF_TUN_EXCL: a device of that name is an error, never attached to.
    unsigned flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
    if (spec.multi_queue) {
        flags |= IFF_MULTI_QUEUE;
    }
    req.ifr_flags = static_cast<short>(static_cast<std::uint16_t>(flags));  // a 16-bit field
    if (::ioctl(fd.get(), TUNSETIFF, &req) < 0) {
        throw Error(errno, "TUNSETIFF", spec.name);
    }
    if (spec.owner) {
        tun_ioctl(fd, TUNSETOWNER, *spec.owner, "TUNSETOWNER", spec.name);
    }
    if (spec.group) {
        tun_ioctl(fd, TUNSETGROUP, *spec.group, "TUNSETGROUP", spec.name);
    }
    tun_ioctl(fd, TUNSETPERSIST, 1, "TUNSETPERSIST", spec.name);
    in.reset();
    RouteSocket sock = RouteSocket::open_in(netns);
    auto link = find_link(sock, spec.name);
    if (!link) {
        throw Error(ENODEV, "RTM_GETLINK", spec.name, "tap vanished right after it was created");
    }
    return *link;
}

}  // namespace netlib
