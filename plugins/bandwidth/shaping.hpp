#pragma once

#include <optional>
#include <string>
#include <vector>

#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"
#include "netlib/tc.hpp"
#include "plugins/bandwidth/config.hpp"
#include "plugins/cni/rollback.hpp"
#include "plugins/cni/types.hpp"

// Where and how the limits are applied. Everything is described from the shaped device's side:
// its egress is a root tbf on it, its ingress goes through an ifb (ingress qdisc + u32 match-all
// filter + mirred redirect to the ifb, whose root tbf shapes it).
namespace bandwidth {

// The device that carries the limits and the namespace it lives in.
struct Site {
    netlib::RouteSocket* sock = nullptr;  // the host's socket, or the container's
    netlib::LinkInfo dev;                 // the host-side veth, or CNI_IFNAME itself
    bool in_container = false;
};

// Finds the host-side veth of CNI_IFNAME without a link dump: the container interface's
// IFLA_LINK is its peer's index, which must be a veth in the host namespace pointing back at it
// and, when prevResult names host interfaces, one of them. Without such a peer (macvlan,
// ipvlan, a veth whose peer lives elsewhere) the limits go on CNI_IFNAME inside the container.
// Throws cni::Error when CNI_IFNAME does not exist.
Site locate(netlib::RouteSocket& host, netlib::RouteSocket& ctr, const std::string& ifname,
            const cni::Result& prev);
// As locate, but nullopt when CNI_IFNAME does not exist (DEL: it may be gone already).
std::optional<Site> find_site(netlib::RouteSocket& host, netlib::RouteSocket& ctr,
                              const std::string& ifname, const cni::Result& prev);

// The limits as the shaped device sees them: on the host veth the container's ingress is the
// device's egress; inside the container the directions are the container's own.
struct DevLimits {
    std::optional<netlib::TbfSpec> egress;   // root tbf on the device
    std::optional<netlib::TbfSpec> ingress;  // root tbf on the ifb
};

DevLimits dev_limits(const Config& cfg, bool in_container);

// Installs `limits` on the site; the ifb, when one is needed, is created from `ifb`. Every step
// registers its undo in `undo`. Returns the ifb.
std::optional<netlib::LinkInfo> shape(const Site& site, const DevLimits& limits,
                                      const netlib::IfbSpec& ifb, cni::Rollback& undo);

// Removes from `dev` what ADD put on it: the ingress qdisc when one of its filters redirects to
// one of `ifbs` (ADD adds that qdisc exclusively, so such a qdisc is ours), and a root tbf with
// ADD's handle 1:. Absent qdiscs, or a device that is gone, are not an error.
void unshape(netlib::RouteSocket& sock, const netlib::LinkInfo& dev,
             const std::vector<netlib::LinkInfo>& ifbs);

// Throws cni::Error naming the first difference between the kernel and `limits`.
void verify(const Site& site, const DevLimits& limits, const std::string& ifb_name);

// The ifb's IFLA_IFALIAS names its owner, "<network>/<containerID>/<ifname>", so GC can tell
// dead attachments' devices from live ones. Empty if it would not fit the kernel's 255 bytes.
std::string owner_alias(const std::string& network, const std::string& container_id,
                        const std::string& ifname);

struct Owner {
    std::string network;
    std::string container_id;
    std::string ifname;
};

std::optional<Owner> parse_owner_alias(const std::string& alias);

}  // namespace bandwidth
