#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "netlib/ip.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/cni/skel.hpp"
#include "plugins/cni/types.hpp"

// What every interface plugin (bridge, macvlan, ipvlan, vlan, tap) does inside the container once
// its link exists, and the checks and guards around it: the model is the reference's
// pkg/ipam.ConfigureIface and pkg/ip validators.
namespace plugin {

// CNI_NETNS opened, or the plugin's error (code 999 naming the path) when it cannot be.
netlib::Netns open_container_netns(const std::string& path);

// prevResult, or code 7 "Required prevResult missing" with `hint` as details.
const cni::Result& require_prev_result(const cni::Request& req, std::string_view hint = {});

bool has_family(const cni::Result& r, netlib::Family f);

// Writes a /proc/sys key of the calling thread's netns only when the value differs: the kernel
// takes the RTNL lock for forwarding and disable_ipv6 writes, so an unconditional write makes
// every ADD queue behind the link changes of its neighbours.
void ensure_sysctl(const std::string& key, std::string_view value);

struct IfaceOptions {
    bool enable_dad = false;          // IPv6 DAD on the container's addresses (bridge's enableDad)
    bool is_default_gateway = false;  // add a default route via each family's gateway
    // net.ipv4.conf.<ifname>.arp_notify = 1, for links created without it (a veth gets it over
    // netlink when it comes up); with IPv6 addresses also net.ipv6.conf.<ifname>.ndisc_notify,
    // as the reference's macvlan and ipvlan do: neighbours learn the new MAC at once.
    bool arp_notify = false;
};

// Sysctls, addresses and routes of `ifindex` (named `ifname`) in the container from an IPAM
// result. With is_default_gateway, the default routes added are appended to `ipam.routes`, so
// that the plugin's result names them.
void configure_container_iface(netlib::RouteSocket& ctr, const netlib::Netns& netns,
                               const std::string& ifname, int ifindex, const IfaceOptions& opts,
                               cni::Result& ipam);

// CHECK: the interface of prevResult named CNI_IFNAME in CNI_NETNS, or nullptr.
const cni::Interface* prev_container_iface(const cni::Result& prev, const cni::Request& req);

// CHECK: code 999 "CHECK failed: <what>".
[[noreturn]] void check_failed(const std::string& what);

// CHECK: every address of prevResult is on `ifindex`, every route of prevResult exists.
void check_container_addresses(netlib::RouteSocket& ctr, const cni::Result& prev, int ifindex);
void check_container_routes(netlib::RouteSocket& ctr, const cni::Result& prev);

// DEL runs every cleanup step even if one fails, and reports the first failure; Rollback's
// counterpart for the verb that must go on.
class BestEffort {
public:
    template <class F>
    void run(F&& step) {
        try {
            step();
        } catch (...) {
            if (!first_) {
                first_ = std::current_exception();
            }
        }
    }

    void finish() const {
        if (first_) {
            std::rethrow_exception(first_);
        }
    }

private:
    std::exception_ptr first_;
};

}  // namespace plugin
