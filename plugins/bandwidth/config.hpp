#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netlib/tc.hpp"
#include "plugins/cni/skel.hpp"

namespace bandwidth {

// One direction's limit, in the configuration's units.
struct Limit {
    std::uint64_t rate = 0;   // bits per second
    std::uint64_t burst = 0;  // bits
};

// The plugin's keys, with the reference's names: `ingressRate`, `ingressBurst`, `egressRate`,
// `egressBurst` at the top level or in `runtimeConfig.bandwidth` (capability "bandwidth"). As in
// the reference, any of them at the top level makes the top level win over runtimeConfig.
// Directions are the container's: ingress is traffic to the container.
struct Config {
    std::optional<Limit> ingress;  // nullopt: not limited (rate and burst both 0 or absent)
    std::optional<Limit> egress;
    std::vector<std::string> notes;  // for stderr: bursts clamped to what the kernel can hold

    bool empty() const { return !ingress && !egress; }

    // Throws cni::Error(7) naming the key: wrong type or negative, a rate without its burst (or
    // the reverse), a burst of 4 GiB or more, a rate below 8 bit/s, a rate whose 25 ms queue
    // alone reaches 4 GiB; cni::Error(2) for the reference's withdrawn `shapedSubnets`/
    // `unshapedSubnets`. A burst whose bucket the kernel cannot hold at its rate (containerd's
    // and CRI-O's "no burst limit" values) is clamped to the largest it can, with a note.
    static Config parse(const cni::Request& req);
};

// The kernel token bucket for `limit`, with the reference's parameters so that CHECK agrees
// with ADDs made by either plugin: rate in bytes/s, the bucket (burst/8 bytes) as its transmit
// time in scheduler ticks, and a queue of 25 ms at `rate` plus the bucket.
netlib::TbfSpec tbf_spec(const Limit& limit);

// "bwp" + the first 12 hex digits of sha512("<network>/<containerID>/<ifname>"), the owner the
// ifb's alias records: one ifb per attachment, so two shaped interfaces of one container on
// one network do not collide.
std::string ifb_name(const std::string& network, const std::string& container_id,
                     const std::string& ifname);

// "bwp" + 12 hex digits of sha512(network name + container id): the reference plugin's ifb name
// (one per container and network), also used by sdnet before ifbs were named per attachment.
// DEL, CHECK and GC still recognise it.
std::string reference_ifb_name(const std::string& network, const std::string& container_id);

}  // namespace bandwidth
