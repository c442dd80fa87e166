#pragma once

#include "plugins/cni/skel.hpp"
#include "plugins/cni/types.hpp"

// The `bridge` plugin: a veth pair with one end on a Linux bridge in the host network namespace
// and the other, named CNI_IFNAME, in the container's, addressed by IPAM.
//
// ADD is transactional: every step registers its undo, so a failure at any point leaves no veth,
// no IP reservation and no nftables element behind. DEL is best-effort and idempotent: it runs
// every cleanup step, works without the container netns (empty or stale CNI_NETNS) and without
// prevResult, because masquerade and spoof-check state is found by its owner tag.
namespace bridge {

cni::Result add(const cni::Request& req);
void del(const cni::Request& req);
void check(const cni::Request& req);
void gc(const cni::Request& req);
void status(const cni::Request& req);

}  // namespace bridge
