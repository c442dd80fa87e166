#include "runtime/libcni/capability_args.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <stdexcept>
#include <vector>

#include "netlib/ip.hpp"
#include "netlib/nft_portmap.hpp"
#include "runtime/libcni/error.hpp"

namespace libcni {
namespace {

struct PortRange {
    int first = 0;
    int last = 0;

    int size() const { return last - first + 1; }
};

[[noreturn]] void bad_publish(std::string_view spec, const std::string& why) {
    throw ArgumentError("invalid port mapping \"" + std::string{spec} + "\": " + why +
                        " (expected [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp|sctp])");
}

int parse_port(std::string_view text, std::string_view spec) {
    int port = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc{} || ptr != text.data() + text.size() || port < 1 || port > 65535) {
        bad_publish(spec, "\"" + std::string{text} + "\" is not a port number (1-65535)");
    }
    return port;
}

PortRange parse_port_range(std::string_view text, std::string_view spec) {
    auto dash = text.find('-');
    if (dash == std::string_view::npos) {
        int p = parse_port(text, spec);
        return {p, p};
    }
    PortRange r{parse_port(text.substr(0, dash), spec), parse_port(text.substr(dash + 1), spec)};
    if (r.last < r.first) {
        bad_publish(spec, "range " + std::string{text} + " is backwards");
    }
    return r;
}

// Splits off the host IP: "[v6]:rest", "v4:h:c" or nothing ("h:c").
std::pair<std::string, std::string_view> split_host_ip(std::string_view ports,
                                                       std::string_view spec) {
    if (ports.starts_with("[")) {
        auto close = ports.find("]:");
        if (close == std::string_view::npos) {
            bad_publish(spec, "unterminated [IPv6 address]");
        }
        return {std::string{ports.substr(1, close - 1)}, ports.substr(close + 2)};
    }
    auto colons = std::count(ports.begin(), ports.end(), ':');
    if (colons == 0) {
        bad_publish(spec, "missing container port");
    }
    if (colons == 1) {
        return {"", ports};
    }
    if (colons != 2) {
        bad_publish(spec, "wrong number of ':' (write IPv6 host addresses in brackets)");
    }
    auto colon = ports.find(':');
    return {std::string{ports.substr(0, colon)}, ports.substr(colon + 1)};
}

std::string parse_protocol(std::string_view text, std::string_view spec) {
    std::string proto{text};
    std::transform(proto.begin(), proto.end(), proto.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (proto != "tcp" && proto != "udp" && proto != "sctp") {
        bad_publish(spec, "unknown protocol \"" + std::string{text} + "\"");
    }
    return proto;
}

std::uint64_t suffix_multiplier(std::string_view suffix) {
    static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
        {"", 1},      {"k", 1000},         {"m", 1000 * 1000},        {"g", 1000 * 1000 * 1000},
        {"ki", 1024}, {"mi", 1024 * 1024}, {"gi", 1024 * 1024 * 1024}};
    std::string s{suffix};
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (std::string_view unit_suffix : {"bit", "bps"}) {
        if (s.ends_with(unit_suffix)) {
            s.resize(s.size() - unit_suffix.size());
            break;
        }
    }
    for (const auto& [name, factor] : kUnits) {
        if (s == name) {
            return factor;
        }
    }
    return 0;
}

}  // namespace

json parse_port_mappings(std::string_view spec) {
    std::string_view ports = spec;
    std::string protocol = "tcp";
    if (auto slash = spec.rfind('/'); slash != std::string_view::npos) {
        protocol = parse_protocol(spec.substr(slash + 1), spec);
        ports = spec.substr(0, slash);
    }
    auto [host_ip, rest] = split_host_ip(ports, spec);
    if (!host_ip.empty() && !netlib::IpAddr::try_parse(host_ip)) {
        bad_publish(spec, "\"" + host_ip + "\" is not an IP address");
    }
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) {
        bad_publish(spec, "missing container port");
    }
    auto host = parse_port_range(rest.substr(0, colon), spec);
    auto container = parse_port_range(rest.substr(colon + 1), spec);
    if (host.size() != container.size()) {
        bad_publish(spec, "host and container port ranges differ in length");
    }
    if (host.size() > netlib::kPortmapMaxRange) {
        // Each port becomes one mapping: the portmap plugin's limit on one range applies.
        bad_publish(spec, netlib::portmap_range_too_long(host.size()));
    }
    json out = json::array();
    for (int i = 0; i < host.size(); ++i) {
        json m = {{"hostPort", host.first + i},
                  {"containerPort", container.first + i},
                  {"protocol", protocol}};
        if (!host_ip.empty()) {
            m["hostIP"] = host_ip;
        }
        out.push_back(std::move(m));
    }
    return out;
}

std::uint64_t parse_rate(std::string_view text) {
    std::uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    std::uint64_t factor =
        ptr == text.data() ? 0 : suffix_multiplier(text.substr(ptr - text.data()));
    if (ec != std::errc{} || factor == 0 || value == 0) {
        throw ArgumentError("invalid rate \"" + std::string{text} +
                            "\" (expected bits per second > 0, e.g. 1000000, 500k, 10M, 10mbit)");
    }
    if (value > std::numeric_limits<std::uint64_t>::max() / factor) {
        throw ArgumentError("rate \"" + std::string{text} + "\" is too large");
    }
    return value * factor;
}

std::uint64_t default_burst(std::uint64_t rate_bps) {
    constexpr std::uint64_t kMinBurst = std::uint64_t{512} * 1024;
    return std::max(rate_bps / 8, kMinBurst);
}

json bandwidth_capability(const BandwidthArgs& args) {
    json out = json::object();
    auto direction = [&](const char* rate_key, const char* burst_key,
                         const std::optional<std::uint64_t>& rate,
                         const std::optional<std::uint64_t>& burst) {
        if (!rate && burst) {
            throw ArgumentError(std::string{burst_key} + " given without " + rate_key);
        }
        if (rate) {
            out[rate_key] = *rate;
            out[burst_key] = burst.value_or(default_burst(*rate));
        }
    };
    direction("ingressRate", "ingressBurst", args.ingress_rate, args.ingress_burst);
    direction("egressRate", "egressBurst", args.egress_rate, args.egress_burst);
    return out.empty() ? json{} : out;
}

std::string parse_ip_arg(std::string_view text) {
    if (auto ip = netlib::IpAddr::try_parse(text)) {
        return ip->to_string();
    }
    if (auto net = netlib::IpNet::try_parse(text)) {
        return net->to_string();
    }
    throw ArgumentError("invalid IP address \"" + std::string{text} +
                        "\" (expected ADDRESS or ADDRESS/PREFIX)");
}

std::string parse_mac_arg(std::string_view text) {
    try {
        return netlib::MacAddr::parse(text).to_string();
    } catch (const std::invalid_argument&) {
        throw ArgumentError("invalid MAC address \"" + std::string{text} +
                            "\" (expected six hex pairs, e.g. 02:42:ac:11:00:02)");
    }
}

json parse_ip_range_arg(std::string_view text) {
    auto bad = [&](const std::string& why) {
        return ArgumentError("invalid IP range \"" + std::string{text} + "\": " + why +
                             " (expected SUBNET[,START-END][,gw=GATEWAY])");
    };
    std::vector<std::string_view> parts;
    for (std::string_view rest = text; !rest.empty();) {
        auto comma = rest.find(',');
        parts.push_back(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    if (parts.empty() || !netlib::IpNet::try_parse(parts[0])) {
        throw bad("missing or invalid subnet");
    }
    json range = {{"subnet", netlib::IpNet::parse(parts[0]).to_string()}};
    for (std::size_t i = 1; i < parts.size(); ++i) {
        auto part = parts[i];
        if (part.starts_with("gw=") && netlib::IpAddr::try_parse(part.substr(3))) {
            range["gateway"] = netlib::IpAddr::parse(part.substr(3)).to_string();
            continue;
        }
        auto dash = part.find('-');
        auto start = netlib::IpAddr::try_parse(part.substr(0, std::min(dash, part.size())));
        auto end = dash == std::string_view::npos
                       ? std::nullopt
                       : netlib::IpAddr::try_parse(part.substr(dash + 1));
        if (!start || !end) {
            throw bad("\"" + std::string{part} + "\" is neither START-END nor gw=GATEWAY");
        }
        range["rangeStart"] = start->to_string();
        range["rangeEnd"] = end->to_string();
    }
    return json::array({range});
}

}  // namespace libcni
