#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netlib/ip.hpp"

// The index snapshot of the disk store (see disk_store.hpp): every (attachment key, address)
// pair a full scan found, one "<key> <address>" line each, sorted by key, between a header and
// an "end" trailer. A lookup is a binary search over the mapped file: O(log n), no parsing of
// the rest. Pure: no file access here.
namespace ipam {

// Formats entries (in any order) as a snapshot.
std::string format_snapshot(std::vector<std::pair<std::string, netlib::IpAddr>> entries);

class SnapshotView {
public:
    // nullopt unless `data` is a whole snapshot (header and trailer intact): a torn or
    // truncated file is never half-trusted. `data` must outlive the view.
    static std::optional<SnapshotView> parse(std::string_view data);

    // The addresses listed for `key`.
    std::vector<netlib::IpAddr> lookup(std::string_view key) const;

private:
    explicit SnapshotView(std::string_view body) : body_(body) {}

    std::string_view body_;  // the sorted lines, each ending in '\n'
};

}  // namespace ipam
