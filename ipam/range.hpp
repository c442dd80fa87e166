#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netlib/ip.hpp"

// Range math for host-local: pure, no system calls. Mirrors the reference's
// backend/allocator/{range,range_set,allocator}.go, plus the checks it lacks (start after end,
// gateway outside the subnet) and skipping of the network and IPv4 broadcast addresses.
namespace ipam {

// IPv4-mapped IPv6 addresses ("::ffff:10.0.0.1") become IPv4, as Go's net.IP.To4 does.
netlib::IpAddr canonical(const netlib::IpAddr& ip);

// One range of a range set, validated: start <= end, both inside `subnet`, which is canonical
// (no host bits) and leaves at least two host bits.
struct Range {
    netlib::IpNet subnet;
    netlib::IpAddr start;
    netlib::IpAddr end;
    netlib::IpAddr gateway;

    // Validates and fills in the defaults as the reference does: gateway = network + 1,
    // rangeStart = network + 1, rangeEnd = last address (minus the IPv4 broadcast). `key` names
    // the range in errors ("ipam.ranges[0][1]"). Throws cni::Error(InvalidConfig) naming the key
    // and the offending value.
    static Range make(const netlib::IpNet& subnet, const std::optional<netlib::IpAddr>& start,
                      const std::optional<netlib::IpAddr>& end,
                      const std::optional<netlib::IpAddr>& gateway, std::string_view key);

    netlib::Family family() const noexcept { return subnet.family(); }

    // `ip` lies in [start, end].
    bool contains(const netlib::IpAddr& ip) const;
    // Whether the allocator may hand out `ip`: not the network address, the IPv4 broadcast
    // address or the gateway. Does not check contains().
    bool usable(const netlib::IpAddr& ip) const;
    // [start, end] intersects other's [start, end] (same family).
    bool overlaps(const Range& other) const;
    // Number of usable addresses in [start, end], saturating at UINT64_MAX.
    std::uint64_t capacity() const;
    // "10.0.0.2-10.0.0.254", the reference's spelling in error messages.
    std::string to_string() const;

    bool operator==(const Range&) const = default;
};

// A list of ranges of one family; host-local allocates one address per range set.
struct RangeSet {
    std::vector<Range> ranges;

    // Validates a set: non-empty, one family, no two ranges overlapping. `key` names the set in
    // errors. Throws cni::Error(InvalidConfig).
    static RangeSet make(std::vector<Range> ranges, std::string_view key);

    netlib::Family family() const { return ranges.front().family(); }

    // The range whose [start, end] holds `ip`, or nullptr.
    const Range* range_for(const netlib::IpAddr& ip) const;

    bool contains(const netlib::IpAddr& ip) const { return range_for(ip) != nullptr; }

    bool overlaps(const RangeSet& other) const;
    // Usable addresses in the whole set, saturating at UINT64_MAX.
    std::uint64_t capacity() const;
    // "a-b,c-d".
    std::string to_string() const;

    bool operator==(const RangeSet&) const = default;
};

// A usable address of a range set and the range it belongs to.
struct Candidate {
    netlib::IpAddr ip;
    const Range* range;
};

// Walks a range set round-robin as the reference allocator does: it starts right after
// `last_reserved` when that address is in the set (else at the first range's start), moves to the
// next range's start after a range's end, wraps from the last range to the first, and stops once
// it is back where it started, so every address is offered exactly once. Unusable addresses
// (network, IPv4 broadcast, gateway) are skipped. The set must outlive the iterator.
class RangeIter {
public:
    RangeIter(const RangeSet& set, const std::optional<netlib::IpAddr>& last_reserved);

    // The next candidate, or nullopt once the whole set has been offered.
    std::optional<Candidate> next();

private:
    const RangeSet* set_;
    std::size_t index_ = 0;
    std::optional<netlib::IpAddr> cur_;
    std::optional<netlib::IpAddr> first_;  // the first address offered; seeing it again ends
    bool done_ = false;
};

}  // namespace ipam
