#pragma once

#include "plugins/cni/skel.hpp"
#include "plugins/cni/types.hpp"

// The `bandwidth` plugin (chained after an interface plugin): limits the rate of traffic to and
// from the container with tc token buckets, as the reference plugin does, and also where there
// is no host-side veth (macvlan, ipvlan), by shaping inside the container namespace.
//
// ADD is transactional (a failure leaves no qdisc and no ifb behind). DEL reads no limit: it
// removes the attachment's ifb (one per attachment, recognised by its owner alias, never by
// name alone) and the qdiscs ADD put on the shaped device, and succeeds when they, the
// interface or the namespace are gone. CHECK compares every tbf's rate, burst and limit with the
// configuration. GC removes the ifbs of attachments not in cni.dev/valid-attachments (each ifb's
// alias names its owner).
namespace bandwidth {

cni::Result add(const cni::Request& req);
void del(const cni::Request& req);
void check(const cni::Request& req);
void gc(const cni::Request& req);
void status(const cni::Request& req);

}  // namespace bandwidth
