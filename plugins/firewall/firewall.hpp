#pragma once

#include "plugins/cni/skel.hpp"
#include "plugins/cni/types.hpp"

// The `firewall` meta plugin: accepts forwarded traffic from the container's addresses (and
// related/established traffic back to them) and applies an ingress policy between bridges, in
// nftables tables of its own (netlib/nft_firewall.hpp). Chained after a plugin that produced the
// addresses (bridge, macvlan, ...); ADD passes prevResult through unchanged.
//
// ADD is one nftables transaction. DEL removes the attachment's elements, by key from prevResult
// or by owner tag without it, and accepts any configuration ADD would have refused, so a chain
// whose ADD failed here can still be torn down. CHECK looks every element up; GC removes the
// elements of attachments not in cni.dev/valid-attachments; STATUS checks nftables answers.
namespace firewall {

cni::Result add(const cni::Request& req);
void del(const cni::Request& req);
void check(const cni::Request& req);
void gc(const cni::Request& req);
void status(const cni::Request& req);

}  // namespace firewall
