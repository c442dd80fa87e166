#pragma once

#include "plugins/cni/skel.hpp"
#include "plugins/cni/types.hpp"

// The `portmap` plugin: publishes container ports on the host, as nftables map elements
// (netlib/nft_portmap.hpp). Chained after a plugin that gives the container its addresses
// (bridge, ptp, macvlan); passes the previous result through.
//
// ADD is one nftables transaction plus per-key conflict lookups; a port another attachment
// holds is an error naming it. DEL finds the attachment's elements by key from portMappings, or
// by owner tag when the runtime does not resend them; it is idempotent. CHECK looks each mapping
// up; GC removes elements of attachments not in cni.dev/valid-attachments.
namespace portmap {

cni::Result add(const cni::Request& req);
void del(const cni::Request& req);
void check(const cni::Request& req);
void gc(const cni::Request& req);
void status(const cni::Request& req);

}  // namespace portmap
