// The "loopback" CNI plugin (reference: containernetworking/plugins plugins/main/loopback).
// ADD sets `lo` up in CNI_NETNS, DEL sets it down, CHECK verifies it is up. CNI_IFNAME is
// ignored: this plugin only ever acts on `lo`, as the reference does.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "netlib/addr.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/skel.hpp"

namespace {

constexpr const char* kLo = "lo";

// A socket bound to the container's namespace: every call below acts there, while this thread
// stays in the runtime's namespace.
netlib::RouteSocket container_socket(const std::string& netns_path) {
    return netlib::RouteSocket::open_in(netlib::Netns::open(netns_path));
}

netlib::LinkInfo require_lo(netlib::RouteSocket& sock) {
    if (auto lo = netlib::find_link(sock, kLo)) {
        return *lo;
    }
    throw cni::Error(cni::Code::Internal, "loopback interface \"lo\" not found");
}

// The first address of each family, after checking that every address on lo is a loopback one.
cni::Result lo_result(const std::vector<netlib::IpNet>& addrs, const std::string& sandbox) {
    cni::Result r;
    r.interfaces.push_back(cni::Interface{kLo, "00:00:00:00:00:00", std::nullopt, sandbox, {}, {}});
    for (netlib::Family family : {netlib::Family::V4, netlib::Family::V6}) {
        for (const auto& a : addrs) {
            if (a.family() == family) {
                r.ips.push_back(cni::IpConfig{a, std::nullopt, 0});
                break;
            }
        }
    }
    return r;
}

cni::Result add(const cni::Request& req) {
    netlib::RouteSocket sock = container_socket(req.env.netns);
    netlib::LinkInfo lo = require_lo(sock);
    netlib::set_up(sock, lo.index, true);
    // Bringing lo up makes the kernel add 127.0.0.1/8 and ::1/128 synchronously.
    std::vector<netlib::IpNet> addrs = netlib::list_addresses(sock, lo.index);
    for (const auto& a : addrs) {
        if (!a.addr().is_loopback()) {
            throw cni::Error(cni::Code::Internal,
                             "loopback interface found with non-loopback "
                             "address \"" +
                                 a.addr().to_string() + "\"");
        }
    }
    // Chained after another plugin: pass its result through untouched.
    if (req.conf.prev_result) {
        return *req.conf.prev_result;
    }
    return lo_result(addrs, req.env.netns);
}

void del(const cni::Request& req) {
    // The namespace may already be gone (runtime cleaned up first, or a repeated DEL).
    if (req.env.netns.empty()) {
        return;
    }
    std::optional<netlib::Netns> ns = netlib::Netns::try_open(req.env.netns);
    if (!ns) {
        return;
    }
    netlib::RouteSocket sock = netlib::RouteSocket::open_in(*ns);
    if (auto lo = netlib::find_link(sock, kLo)) {
        netlib::set_up(sock, lo->index, false);
    }
}

void check(const cni::Request& req) {
    netlib::RouteSocket sock = container_socket(req.env.netns);
    if (!require_lo(sock).up) {
        throw cni::Error(cni::Code::Internal, "loopback interface is down");
    }
}

}  // namespace

int main(int argc, char** argv) {
    cni::Plugin plugin;
    plugin.name = "loopback";
    plugin.add = add;
    plugin.del = del;
    plugin.check = check;
    return cni::main(plugin, argc, argv, SDNET_VERSION);
}
