#pragma once

#include "plugins/cni/skel.hpp"
#include "plugins/cni/types.hpp"

// IPAM for the main plugins. When `ipam.type` is "host-local" and the host-local found first on
// CNI_PATH sits next to this plugin (it is ours, from the same build), the allocator runs
// in-process: same files, same locking, same result, one fork/exec less per call. Any other IPAM
// plugin is executed as the spec's delegation describes.
namespace plugin {

cni::Result ipam_add(const cni::Request& req);
void ipam_del(const cni::Request& req);
void ipam_check(const cni::Request& req);
void ipam_gc(const cni::Request& req);
void ipam_status(const cni::Request& req);

}  // namespace plugin
