#include "plugins/bandwidth/config.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/cni/sha512.hpp"

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
    // Whole bytes, as the reference's integer division (uint64 bits / 8).
    std::uint64_t rate_bytes = l.rate / 8;
    std::uint64_t burst_bytes = l.burst / 8;
    b.rate_bytes = double(rate_bytes);
    b.burst_bytes = double(burst_bytes);
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

bool bucket_too_long(const Bucket& b) {
    return b.usec > kUint32Max || b.ticks > kUint32Max;
}

bool queue_too_long(const Bucket& b) {
    return b.queue + b.burst_bytes > kUint32Max;
}

// The largest burst (bits) whose bucket the kernel can hold at `rate`: sent within the tbf's
// 32-bit tick count, and with the 25 ms queue within its 32-bit byte limit. The estimate is
// floating point; the loop steps off a boundary it may have rounded onto.
std::uint64_t max_burst(std::uint64_t rate) {
    Limit l{rate, 8};
    Bucket b = bucket(l);
    double max_usec = std::min(kUint32Max, kUint32Max / netlib::psched_ticks_per_usec());
    double bytes = std::min({std::floor(b.rate_bytes * max_usec / 1e6),
                             kUint32Max - std::ceil(b.queue), kUint32Max - 1});
    l.burst = std::uint64_t(std::max(bytes, 1.0)) * 8;
    while (l.burst > 8 && (bucket_too_long(bucket(l)) || queue_too_long(bucket(l)))) {
        l.burst -= 8;
    }
    return l.burst;
}

// Checks one direction's pair and returns its limit; nullopt when both are 0 (unlimited). A
// burst too large for the rate is clamped (noted in `notes`), not refused: containerd sends
// MaxUint32 bits and CRI-O MaxUint32*8-1 for every Kubernetes bandwidth annotation, meaning
// "as large as possible", and refusing them fails every annotated pod.
std::optional<Limit> parse_limit(const json& obj, const Keys& keys,
                                 std::vector<std::string>& notes) {
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
    if (bucket(Limit{l.rate, 8}).queue + 1 > kUint32Max) {
        throw cni::config_error(quoted(keys.rate) + " is too large: 25 ms of it with " +
                                quoted(keys.burst) + " give a queue limit of 4 GiB or more");
    }
    Bucket b = bucket(l);
    if (bucket_too_long(b) || queue_too_long(b)) {
        std::uint64_t clamped = max_burst(l.rate);
        notes.push_back(quoted(keys.burst) + " " + std::to_string(l.burst) +
                        " is more than the kernel can hold at " + quoted(keys.rate) + " " +
                        std::to_string(l.rate) + "; using " + std::to_string(clamped) + " bits");
        l.burst = clamped;
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
    c.ingress = parse_limit(*source, kIngress, c.notes);
    c.egress = parse_limit(*source, kEgress, c.notes);
    return c;
}

netlib::TbfSpec tbf_spec(const Limit& limit) {
    Bucket b = bucket(limit);
    auto queue = std::uint32_t(b.queue);
    return {limit.rate / 8, std::uint32_t(b.ticks), queue + std::uint32_t(b.burst_bytes)};
}

std::string ifb_name(const std::string& network, const std::string& container_id,
                     const std::string& ifname) {
    return "bwp" + cni::sha512_hex(network + "/" + container_id + "/" + ifname, 6);
}

std::string reference_ifb_name(const std::string& network, const std::string& container_id) {
    return "bwp" + cni::sha512_hex(network + container_id, 6);
}

}  // namespace bandwidth
