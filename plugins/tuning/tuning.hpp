#pragma once

#include "plugins/cni/skel.hpp"
#include "plugins/cni/types.hpp"

// The `tuning` meta plugin: changes the container interface CNI_IFNAME (MAC, MTU, promiscuous
// and all-multicast mode, transmit queue length) and network sysctls inside the container's
// namespace. Chained after the plugin that created the interface; ADD returns prevResult with
// the interface's new MAC.
//
// ADD is transactional: the link attributes it changes are saved first to
// <dataDir>/<container id>_<ifname>.json (the reference plugin's file and layout, so either
// implementation can DEL what the other ADDed), and a failure at any step restores every link
// attribute and sysctl already changed and removes the file. DEL restores the saved attributes
// and removes the file; it never fails (nothing to do when the file, the namespace or the
// interface is gone). Sysctls are not restored on DEL, as in the reference: they live in the
// container's namespace, which dies with it. CHECK compares everything configured with the
// kernel. GC removes the saved state of the network's attachments that are not live any more
// (cni::ValidAttachments); an owner file beside each saved file says which network it belongs
// to (see saved_state.hpp), since the reference's file name holds none.
namespace tuning {

cni::Result add(const cni::Request& req);
void del(const cni::Request& req);
void check(const cni::Request& req);
void gc(const cni::Request& req);

}  // namespace tuning
