#pragma once

#include "plugins/cni/skel.hpp"
#include "plugins/cni/types.hpp"

// The host-local IPAM as plain functions. The host-local executable wires exactly these into
// cni::main (ipam/host_local_main.cpp); a plugin whose ipam.type is "host-local" may call them
// in-process with its own Request instead of fork/exec'ing the binary. They keep no state
// between calls: everything lives under <dataDir>/<network> (see ipam/disk_store.hpp), guarded
// by the network's flock, so in-process and exec'd callers can mix freely.
//
// Each reads conf.ipam and the top-level name, cniVersion, runtimeConfig and args from
// `req.config`, CNI_CONTAINERID/CNI_IFNAME/CNI_ARGS from `req.env`. They throw cni::Error:
//   7   invalid configuration, naming the key and the value;
//   4   invalid CNI_ARGS, container id or ifname;
//   5   the data directory cannot be read or written (11 for EAGAIN/EBUSY);
//   50  STATUS only: a range set has no free address, or the store is unusable;
//   999 what the reference reports as 999: duplicate allocation, requested address taken, no
//       address left ("no IP addresses available in range set: ..."), CHECK mismatch.
namespace ipam {

// ADD: one address per range set for (CNI_CONTAINERID, CNI_IFNAME), all under one lock; if one
// set fails, the addresses taken for the others are released. The result has ips (with the
// range's gateway, no interface index), ipam.routes and the dns read from ipam.resolvConf.
cni::Result host_local_add(const cni::Request& req);

// DEL: releases every address held by (CNI_CONTAINERID, CNI_IFNAME), or, when there is none,
// by the legacy id-only form. Idempotent; an unknown container is success. Needs only the
// network name and ipam.dataDir, so it works even if the ranges stopped validating.
void host_local_del(const cni::Request& req);

// CHECK: the attachment holds an address in every range set, and every prevResult address that
// lies in one of the sets is held by it.
void host_local_check(const cni::Request& req);

// GC (CNI 1.1): releases every reservation whose owner is not live by cni::ValidAttachments'
// rule (a legacy id-only reservation is kept while its container is listed with any ifname); an
// empty or unreadable reservation file (debris of a crashed writer: GC runs under the lock, so
// nobody is writing it) is released. lock, last_reserved_ip.* and our .sdnet directory are never
// touched. Without a list nothing is released; a malformed list is code 7 and releases nothing.
void host_local_gc(const cni::Request& req);

// STATUS (CNI 1.1): succeeds if every range set still has a free address; code 50 naming the
// set otherwise.
void host_local_status(const cni::Request& req);

// The verbs above as the plugin's table, for the host-local executables.
cni::Plugin host_local_plugin();

}  // namespace ipam
