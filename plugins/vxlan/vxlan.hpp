#pragma once

#include "plugins/cni/skel.hpp"
#include "plugins/cni/types.hpp"

// The `vxlan` plugin: containers on a per-network bridge, as `bridge` attaches them, joined to
// the same network on other nodes by a VXLAN device. L2 mode: the device is a port of the bridge
// and one subnet spans the nodes; routed mode (flannel's model): each node owns a subnet and
// routes the others' through the device, with static neighbour and FDB entries, so nothing
// floods. See the README's vxlan section for the design.
namespace vxlan {

cni::Result add(const cni::Request& req);
void del(const cni::Request& req);
void check(const cni::Request& req);
void gc(const cni::Request& req);
void status(const cni::Request& req);

}  // namespace vxlan
