#include "plugins/bandwidth/config.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"
#include "runtime/libcni/sha512.hpp"

namespace bandwidth {
namespace {

using cni::json_util::json;

constexpr double kLatencyUsec = 25000;  // the reference's fixed tbf latency, 25 ms
constexpr double kUint32Max = 4294967295.0;

struct Keys {
    const char* rate;
    const char* burst;
};

constexpr Keys kIngress{"ingressRate", "ingressBurst"};
constexpr Keys kEgress{"egressRate", "egressBurst"};
constexpr std::array<const char*, 4> kAllKeys{"ingressRate", "ingressBurst", "egressRate",
                                              "egressBurst"};

// The tbf numbers in floating point, before the kernel's 32-bit fields cut them.
struct Bucket {
    double rate_bytes;
    double burst_bytes;
    double usec;  // time to send the bucket at the rate
    double ticks;
    double queue;  // bytes sent in the 25 ms latency at the rate
};

Bucket bucket(const Limit& l) {
    Bucket b{};
    b.rate_bytes = double(l.rate / 8);
    b.burst_bytes = double(l.burst / 8);
    b.usec = b.burst_bytes * 1e6 / b.rate_bytes;
    // Truncations where the reference's Go code converts to uint32 (none may overflow:
    // parse_limit checks the unconverted values first).
    b.ticks = double(std::uint32_t(std::min(b.usec, kUint32Max))) * netlib::psched_ticks_per_usec();
    b.queue = b.rate_bytes * kLatencyUsec / 1e6;
    return b;
}

std::string quoted(const char* key) {
    return std::string{"\""} + key + "\"";
}

// Checks one direction's pair and returns its limit; nullopt when both are 0 (unlimited).
std::optional<Limit> parse_limit(const json& obj, const Keys& keys) {
    Limit l;
    l.rate = cni::json_util::get_uint(obj, keys.rate).value_or(0);
    l.burst = cni::json_util::get_uint(obj, keys.burst).value_or(0);
    if (l.rate == 0 && l.burst == 0) {
        return std::nullopt;
    }
    if (l.burst == 0) {
        throw cni::config_error(quoted(keys.burst) + " must be set when " + quoted(keys.rate) +
                                " is");
    }
    if (l.rate == 0) {
        throw cni::config_error(quoted(keys.rate) + " must be set when " + quoted(keys.burst) +
                                " is");
    }
    if (l.rate < 8) {
        throw cni::config_error(quoted(keys.rate) + " must be at least 8 (bits per second)");
    }
    if (l.burst < 8) {
        throw cni::config_error(quoted(keys.burst) + " must be at least 8 (bits)");
    }
    if (l.burst / 8 >= UINT32_MAX) {
        throw cni::config_error(quoted(keys.burst) + " cannot be more than 4GB");
    }
    Bucket b = bucket(l);
    if (b.usec > kUint32Max || b.ticks > kUint32Max) {
        throw cni::config_error(
            quoted(keys.burst) + " is too large for " + quoted(keys.rate) +
                ": the kernel cannot hold a bucket that takes that long to send",
            "the bucket takes " + std::to_string(b.usec / 1e6) + " s; at most " +
                std::to_string(kUint32Max / netlib::psched_ticks_per_usec() / 1e6) + " s");
    }
    if (b.queue + b.burst_bytes > kUint32Max) {
        throw cni::config_error(quoted(keys.rate) + " and " + quoted(keys.burst) +
                                " give a queue limit (25 ms at the rate plus the burst) of 4 "
                                "GiB or more");
    }
    return l;
}

bool any_key_at(const json& obj) {
    for (const char* key : kAllKeys) {
        if (cni::json_util::find(obj, key) != nullptr) {
            return true;
        }
    }
    return false;
}

// Subnet-selective shaping existed in the reference only in v1.5.x (withdrawn in v1.6.0);
// silently shaping everything instead would be a surprise.
void reject_subnets(const json& obj) {
    for (const char* key : {"shapedSubnets", "unshapedSubnets"}) {
        const json* list = cni::json_util::get_array(obj, key);
        if (list != nullptr && !list->empty()) {
            throw cni::Error(cni::Code::UnsupportedField,
                             quoted(key) +
                                 " is not supported (the reference plugin withdrew it "
                                 "in v1.6.0); shaping applies to all traffic");
        }
    }
}

}  // namespace

Config Config::parse(const cni::Request& req) {
    const json* source = &req.config;
    if (!any_key_at(req.config)) {
        if (const json* rc = cni::json_util::get_object(req.conf.runtime_config, "bandwidth")) {
            source = rc;
        }
    }
    reject_subnets(*source);
    Config c;
    c.ingress = parse_limit(*source, kIngress);
    c.egress = parse_limit(*source, kEgress);
    return c;
}

netlib::TbfSpec tbf_spec(const Limit& limit) {
    Bucket b = bucket(limit);
    auto queue = std::uint32_t(b.queue);
    return {limit.rate / 8, std::uint32_t(b.ticks), queue + std::uint32_t(b.burst_bytes)};
}

std::string ifb_name(const std::string& network, const std::string& container_id) {
    return "bwp" + libcni::sha512_hex(network + container_id, 6);
}

}  // namespace bandwidth
