#include "ipam/snapshot.hpp"

#include <algorithm>

namespace ipam {
namespace {

constexpr std::string_view kHeader = "sdnet host-local snapshot v1\n";
constexpr std::string_view kTrailer = "end\n";

std::string_view key_of(std::string_view line) {
    return line.substr(0, line.find(' '));
}

}  // namespace

std::string format_snapshot(std::vector<std::pair<std::string, netlib::IpAddr>> entries) {
    std::sort(entries.begin(), entries.end());
    std::string out{kHeader};
    for (const auto& [key, ip] : entries) {
        out += key;
        out += ' ';
        out += ip.to_string();
        out += '\n';
    }
    out += kTrailer;
    return out;
}

std::optional<SnapshotView> SnapshotView::parse(std::string_view data) {
    if (!data.starts_with(kHeader) || !data.ends_with(kTrailer) ||
        data.size() < kHeader.size() + kTrailer.size()) {
        return std::nullopt;
    }
    auto body = data.substr(kHeader.size(), data.size() - kHeader.size() - kTrailer.size());
    if (!body.empty() && body.back() != '\n') {
        return std::nullopt;  // every line must end in '\n' for the search to stay in bounds
    }
    return SnapshotView{body};
}

std::vector<netlib::IpAddr> SnapshotView::lookup(std::string_view key) const {
    // Lower bound over line starts. `lo` and `hi` are always line starts (or the end).
    auto line_at = [&](std::size_t p) { return body_.substr(p, body_.find('\n', p) - p); };
    auto next_line = [&](std::size_t p) { return body_.find('\n', p) + 1; };
    std::size_t lo = 0;
    std::size_t hi = body_.size();
    while (lo < hi) {
        std::size_t mid = lo + (hi - lo) / 2;
        if (mid > lo) {
            mid = body_.find('\n', mid - 1) + 1;  // the first line starting at or after mid
        }
        if (mid >= hi) {
            mid = lo;  // no line starts inside (lo, hi): decide on the line at lo
        }
        if (key_of(line_at(mid)) < key) {
            lo = next_line(mid);
        } else {
            hi = mid;
        }
    }
    std::vector<netlib::IpAddr> out;
    for (std::size_t p = lo; p < body_.size(); p = next_line(p)) {
        std::string_view line = line_at(p);
        if (key_of(line) != key) {
            break;
        }
        if (line.size() <= key.size()) {
            continue;
        }
        if (auto ip = netlib::IpAddr::try_parse(line.substr(key.size() + 1))) {
            out.push_back(*ip);
        }
    }
    return out;
}

}  // namespace ipam
