#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netlib {

class RouteSocket;

// Traffic control (rtnetlink RTM_*QDISC / RTM_*TFILTER) for rate limiting: a token bucket
// (tbf) as a link's root qdisc, and the ingress qdisc + u32 + mirred pattern that hands a link's
// incoming traffic to an ifb device, whose own root tbf then shapes it.
//
// How the messages are built: the ingress qdisc, the u32 filter with its mirred action and the
// qdisc deletions are libnl-route objects (rtnl_qdisc, rtnl_cls + rtnl_u32, rtnl_act +
// rtnl_mirred), and filter dumps are decoded by libnl's parsers. A paired bench (bench/bandwidth,
// this build against the hand-built one, run both ways round) showed no cost: ADD with the ifb
// and the redirect differed by -0.12 to +0.16 ms on a ~3.3 ms median (one outlier run +1.2 ms),
// process start by +0.04 ms. The tbf stays hand-built, as does reading it back: libnl 3.7's tbf
// takes the rate as an int (no TCA_TBF_RATE64, so nothing above 2 GiB/s) and the bucket in bytes,
// which it turns into ticks with its own rounding, where the reference plugin and CHECK need the
// kernel's exact tc_tbf_qopt (buffer in ticks, 64-bit rate).
//
// Every function acts in the network namespace of `sock` and throws netlib::Error naming the
// operation and the link ("RTM_NEWQDISC tbf dev #7: File exists (<ext-ack>)"). Lookups return
// nullopt/false for what is not there; removals return false when there was nothing to remove.

// The kernel's packet scheduler clock, read once from /proc/net/psched as iproute2's
// tc_core_init does: scheduler ticks per microsecond (15.625 with the 64 ns ticks of every
// kernel since 2.6.x). tbf takes its bucket size as a time in these ticks.
[[nodiscard]] double psched_ticks_per_usec();

// A token bucket as the kernel holds it (struct tc_tbf_qopt, TCA_TBF_RATE64).
struct TbfSpec {
    std::uint64_t rate = 0;    // bytes per second
    std::uint32_t buffer = 0;  // bucket size, as the time to send it at `rate`, in psched ticks
    std::uint32_t limit = 0;   // bytes that may wait in the queue

    bool operator==(const TbfSpec&) const = default;
};

// A qdisc as the kernel reports it.
struct QdiscInfo {
    std::string kind;          // "tbf", "ingress", "noqueue", "fq_codel", ...
    std::uint32_t handle = 0;  // major << 16 | minor: 0x10000 is "1:", 0xffff0000 is "ffff:"
    std::uint32_t parent = 0;
    std::optional<TbfSpec> tbf;  // set when kind == "tbf"
};

inline constexpr std::uint32_t kTbfHandle = 0x00010000;      // "1:", as the reference plugin
inline constexpr std::uint32_t kIngressHandle = 0xffff0000;  // "ffff:", the ingress qdisc's

// Adds a tbf as the root qdisc of `ifindex`, handle 1: (NLM_F_EXCL: EEXIST if the link already
// has a root qdisc of its own; a default one such as noqueue or fq_codel is replaced).
void add_root_tbf(RouteSocket& sock, int ifindex, const TbfSpec& spec);
// Adds the ingress qdisc (ffff:) to `ifindex`. EEXIST if it has one.
void add_ingress_qdisc(RouteSocket& sock, int ifindex);
// On the ingress qdisc of `ifindex`: a u32 filter (priority 1, protocol all) matching every
// packet, whose mirred action redirects it to the egress of `target` (an ifb), as
// `tc filter add dev X parent ffff: protocol all prio 1 u32 match u32 0 0 flowid 1:1
//  action mirred egress redirect dev Y`.
void add_ingress_redirect(RouteSocket& sock, int ifindex, int target);

// One RTM_GETQDISC request each (never a dump). nullopt when the link has no such qdisc (or
// does not exist). A link without a configured root qdisc reports its default one (noqueue,
// fq_codel, ...) with handle 0.
[[nodiscard]] std::optional<QdiscInfo> find_root_qdisc(RouteSocket& sock, int ifindex);
[[nodiscard]] std::optional<QdiscInfo> find_ingress_qdisc(RouteSocket& sock, int ifindex);

// A filter on a link's ingress qdisc whose mirred action redirects packets to another link.
struct IngressRedirect {
    std::uint16_t priority = 0;
    std::uint16_t protocol = 0;  // ETH_P_* in host order; 3 (ETH_P_ALL) for every protocol
    std::string kind;            // classifier: "u32", ...
    bool match_all = false;      // u32 with no key that can fail (match u32 0 0)
    int target = 0;              // ifindex packets are redirected to (egress)
};

// The redirects on the ingress qdisc of `ifindex` (a dump of that one link's filters). Empty
// when the link has no ingress qdisc.
[[nodiscard]] std::vector<IngressRedirect> list_ingress_redirects(RouteSocket& sock, int ifindex);

// Removes the root qdisc of `ifindex` if it is a tbf with handle 1: (ours); false when the link,
// or such a qdisc, is not there. Any other root qdisc is left alone.
bool remove_root_tbf(RouteSocket& sock, int ifindex);
// Removes the ingress qdisc of `ifindex` and with it its filters; false when not there.
bool remove_ingress_qdisc(RouteSocket& sock, int ifindex);

}  // namespace netlib
