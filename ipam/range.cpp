#include "ipam/range.hpp"

#include <algorithm>
#include <limits>

#include "plugins/cni/error.hpp"

namespace ipam {
namespace {

using netlib::IpAddr;
using netlib::IpNet;

__extension__ typedef unsigned __int128 U128;  // NOLINT(modernize-use-using): needs __extension__

U128 to_u128(const IpAddr& ip) {
    U128 v = 0;
    for (auto b : ip.bytes()) {
        v = (v << 8) | b;
    }
    return v;
}

std::uint64_t saturate(U128 v) {
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    return v > kMax ? kMax : static_cast<std::uint64_t>(v);
}

[[noreturn]] void bad(std::string_view key, std::string_view field, const std::string& why) {
    std::string name{key};
    if (!field.empty()) {
        name += ".";
        name += field;
    }
    throw cni::config_error("invalid configuration: \"" + name + "\" " + why);
}

void check_inside(const IpNet& subnet, const IpAddr& ip, std::string_view key,
                  std::string_view field) {
    if (!subnet.contains(ip)) {
        bad(key, field, ip.to_string() + " is not in subnet " + subnet.to_string());
    }
}

}  // namespace

IpAddr canonical(const IpAddr& ip) {
    if (ip.is_v4()) {
        return ip;
    }
    auto b = ip.bytes();
    bool mapped = std::all_of(b.begin(), b.begin() + 10, [](auto x) { return x == 0; }) &&
                  b[10] == 0xff && b[11] == 0xff;
    return mapped ? IpAddr::from_bytes(b.subspan(12, 4)) : ip;
}

Range Range::make(const IpNet& subnet, const std::optional<IpAddr>& start,
                  const std::optional<IpAddr>& end, const std::optional<IpAddr>& gateway,
                  std::string_view key) {
    if (subnet.prefix() > subnet.addr().bit_len() - 2) {
        bad(key, "subnet", subnet.to_string() + " is too small to allocate from");
    }
    if (!subnet.is_canonical()) {
        bad(key, "subnet",
            subnet.to_string() + " has host bits set (the network is " +
                subnet.network().to_string() + ")");
    }
    Range r;
    r.subnet = subnet;
    r.gateway = gateway.value_or(subnet.first().next());
    r.start = start.value_or(subnet.first().next());
    r.end = end.value_or(subnet.addr().is_v4() ? subnet.last().prev() : subnet.last());
    if (gateway) {
        check_inside(subnet, r.gateway, key, "gateway");
    }
    if (start) {
        check_inside(subnet, r.start, key, "rangeStart");
    }
    if (end) {
        check_inside(subnet, r.end, key, "rangeEnd");
    }
    if (r.end < r.start) {
        bad(key, "rangeStart", r.start.to_string() + " is after rangeEnd " + r.end.to_string());
    }
    return r;
}

bool Range::contains(const IpAddr& ip) const {
    return ip.family() == family() && start <= ip && ip <= end;
}

bool Range::usable(const IpAddr& ip) const {
    return ip != gateway && ip != subnet.first() && !(ip.is_v4() && ip == subnet.last());
}

bool Range::overlaps(const Range& other) const {
    return other.family() == family() && start <= other.end && other.start <= end;
}

std::uint64_t Range::capacity() const {
    U128 span = to_u128(end) - to_u128(start);  // the count minus one: cannot overflow
    if (span == ~U128{0}) {
        return std::numeric_limits<std::uint64_t>::max();  // all of IPv6; nothing to subtract
    }
    std::vector<IpAddr> skipped;
    for (const IpAddr& ip : {gateway, subnet.first(), subnet.last()}) {
        if (contains(ip) && !usable(ip) &&
            std::find(skipped.begin(), skipped.end(), ip) == skipped.end()) {
            skipped.push_back(ip);
        }
    }
    return saturate(span + 1 - skipped.size());
}

std::string Range::to_string() const {
    return start.to_string() + "-" + end.to_string();
}

RangeSet RangeSet::make(std::vector<Range> ranges, std::string_view key) {
    if (ranges.empty()) {
        bad(key, "", "is an empty range set");
    }
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        if (ranges[i].family() != ranges[0].family()) {
            bad(key, "",
                "mixes address families: " + ranges[0].subnet.to_string() + " and " +
                    ranges[i].subnet.to_string());
        }
    }
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        for (std::size_t j = i + 1; j < ranges.size(); ++j) {
            if (ranges[i].overlaps(ranges[j])) {
                bad(key, "",
                    "has overlapping ranges " + ranges[i].to_string() + " and " +
                        ranges[j].to_string());
            }
        }
    }
    return RangeSet{std::move(ranges)};
}

const Range* RangeSet::range_for(const IpAddr& ip) const {
    for (const auto& r : ranges) {
        if (r.contains(ip)) {
            return &r;
        }
    }
    return nullptr;
}

bool RangeSet::overlaps(const RangeSet& other) const {
    for (const auto& a : ranges) {
        for (const auto& b : other.ranges) {
            if (a.overlaps(b)) {
                return true;
            }
        }
    }
    return false;
}

std::uint64_t RangeSet::capacity() const {
    std::uint64_t total = 0;
    for (const auto& r : ranges) {
        std::uint64_t c = r.capacity();
        total = c > std::numeric_limits<std::uint64_t>::max() - total
                    ? std::numeric_limits<std::uint64_t>::max()
                    : total + c;
    }
    return total;
}

std::string RangeSet::to_string() const {
    std::string out;
    for (const auto& r : ranges) {
        out += out.empty() ? "" : ",";
        out += r.to_string();
    }
    return out;
}

RangeIter::RangeIter(const RangeSet& set, const std::optional<IpAddr>& last_reserved) : set_(&set) {
    if (!last_reserved) {
        return;
    }
    for (std::size_t i = 0; i < set.ranges.size(); ++i) {
        if (set.ranges[i].contains(*last_reserved)) {
            index_ = i;
            cur_ = *last_reserved;  // the first next() offers the address after it
            return;
        }
    }
}

std::optional<Candidate> RangeIter::next() {
    while (!done_) {
        const Range* r = &set_->ranges[index_];
        if (!cur_) {
            cur_ = r->start;
        } else if (*cur_ == r->end) {
            index_ = (index_ + 1) % set_->ranges.size();
            r = &set_->ranges[index_];
            cur_ = r->start;
        } else {
            cur_ = cur_->next();
        }
        if (!first_) {
            first_ = cur_;
        } else if (*cur_ == *first_) {
            done_ = true;
            break;
        }
        if (r->usable(*cur_)) {
            return Candidate{*cur_, r};
        }
    }
    return std::nullopt;
}

}  // namespace ipam
