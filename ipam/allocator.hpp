#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "ipam/range.hpp"
#include "ipam/store.hpp"
#include "netlib/ip.hpp"
#include "plugins/cni/types.hpp"

namespace ipam {

// Allocates addresses of one range set (backend/allocator/allocator.go in the reference). The
// caller holds the store's lock for the whole call; nothing here touches the system directly.
class Allocator {
public:
    // `set_index` names the set on disk (last_reserved_ip.<set_index>) and in errors. Both
    // references must outlive the allocator.
    Allocator(const RangeSet& set, std::size_t set_index, Store& store);

    // Gives `holder` one address of the set: `requested` if set, else the next free usable
    // address after the set's last reserved one (RangeIter). Throws cni::Error:
    //  - 999 if `holder` (or its legacy id-only form) already holds an address of this set:
    //    "duplicate allocation is not allowed";
    //  - 7 if `requested` is outside the set, or is its gateway, network or broadcast address;
    //  - 999 if `requested` is taken, or when no address is free ("no IP addresses available in
    //    range set: <ranges>", the reference's wording).
    cni::IpConfig allocate(const Attachment& holder,
                           const std::optional<netlib::IpAddr>& requested);

    // The addresses of this set held by `holder` or, as the reference also matches, by the
    // legacy id-only form of it.
    std::vector<netlib::IpAddr> held_by(const Attachment& holder);

private:
    cni::IpConfig allocate_requested(const Attachment& holder, const netlib::IpAddr& ip);

    const RangeSet& set_;
    std::size_t index_;
    Store& store_;
};

}  // namespace ipam
