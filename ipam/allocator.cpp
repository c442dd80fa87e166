#include "ipam/allocator.hpp"

#include "plugins/cni/error.hpp"

namespace ipam {
namespace {

cni::IpConfig config_for(const netlib::IpAddr& ip, const Range& range) {
    return cni::IpConfig{netlib::IpNet{ip, range.subnet.prefix()}, range.gateway, std::nullopt};
}

std::string who(const Attachment& a) {
    return a.container_id + (a.ifname.empty() ? "" : "/" + a.ifname);
}

}  // namespace

Allocator::Allocator(const RangeSet& set, std::size_t set_index, Store& store)
    : set_(set), index_(set_index), store_(store) {}

std::vector<netlib::IpAddr> Allocator::held_by(const Attachment& holder) {
    std::vector<netlib::IpAddr> out;
    auto keep = [&](const std::vector<netlib::IpAddr>& ips) {
        for (const auto& ip : ips) {
            if (set_.contains(ip)) {
                out.push_back(ip);
            }
        }
    };
    keep(store_.find(holder));
    if (!holder.ifname.empty()) {
        keep(store_.find(holder.legacy()));
    }
    return out;
}

cni::IpConfig Allocator::allocate(const Attachment& holder,
                                  const std::optional<netlib::IpAddr>& requested) {
    // SPEC.md: a runtime must not ADD the same (container id, ifname) twice without a DEL.
    if (auto held = held_by(holder); !held.empty()) {
        throw cni::Error(cni::Code::Internal, held.front().to_string() + " has been allocated to " +
                                                  who(holder) +
                                                  ", duplicate allocation is not allowed");
    }
    if (requested) {
        return allocate_requested(holder, *requested);
    }
    RangeIter it{set_, store_.last_reserved(index_)};
    while (auto c = it.next()) {
        if (store_.reserve(holder, c->ip, index_)) {
            return config_for(c->ip, *c->range);
        }
    }
    throw cni::Error(cni::Code::Internal,
                     "no IP addresses available in range set: " + set_.to_string());
}

cni::IpConfig Allocator::allocate_requested(const Attachment& holder, const netlib::IpAddr& ip) {
    const Range* r = set_.range_for(ip);
    if (r == nullptr) {
        throw cni::config_error("requested IP address " + ip.to_string() + " is not in range set " +
                                set_.to_string());
    }
    if (!r->usable(ip)) {
        const char* what = ip == r->gateway          ? "the gateway"
                           : ip == r->subnet.first() ? "the network address"
                                                     : "the broadcast address";
        throw cni::config_error("requested IP address " + ip.to_string() + " is " + what +
                                " of subnet " + r->subnet.to_string());
    }
    if (!store_.reserve(holder, ip, index_)) {
        throw cni::Error(cni::Code::Internal, "requested IP address " + ip.to_string() +
                                                  " is not available in range set " +
                                                  set_.to_string());
    }
    return config_for(ip, *r);
}

}  // namespace ipam
