#include "plugins/vxlan/config.hpp"

#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"

namespace vxlan {
namespace {

using cni::config_error;
using cni::json_util::json;

constexpr std::int64_t kMaxVni = (1 << 24) - 1;
constexpr const char* kDefaultBridge = "vxbr0";

netlib::IpAddr parse_address(const json& v, const std::string& where) {
    const std::string& text = cni::json_util::as_string(v, where);
    auto a = netlib::IpAddr::try_parse(text);
    if (!a) {
        throw config_error("invalid " + where + " \"" + text + "\": not an IP address");
    }
    return *a;
}

std::optional<netlib::IpAddr> address_key(const json& j, const char* key) {
    const json* v = cni::json_util::find(j, key);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    return parse_address(*v, std::string{"\""} + key + "\"");
}

std::string ifname_key(const json& j, const char* key, const std::string& fallback) {
    std::string name = cni::json_util::get_string(j, key).value_or(fallback);
    if (auto problem = cni::ifname_problem(name)) {
        throw config_error(std::string{"invalid \""} + key + "\" \"" + name + "\": " + *problem);
    }
    return name;
}

Peer parse_peer(const json& item, Mode mode, std::size_t i) {
    std::string where = "\"peers\"[" + std::to_string(i) + "]";
    Peer p;
    if (item.is_string()) {
        p.address = parse_address(item, where);
    } else if (item.is_object()) {
        const json* a = cni::json_util::find(item, "address");
        if (a == nullptr) {
            throw config_error(where + " has no \"address\"");
        }
        p.address = parse_address(*a, where + ".address");
        if (const json* subnets = cni::json_util::get_array(item, "subnets")) {
            for (const json& s : *subnets) {
                const std::string& text = cni::json_util::as_string(s, where + ".subnets");
                auto net = netlib::IpNet::try_parse(text);
                if (!net) {
                    throw config_error("invalid " + where + ".subnets entry \"" + text +
                                       "\": not a CIDR subnet");
                }
                p.subnets.push_back(net->network());
            }
        }
    } else {
        throw config_error("invalid " + where +
                           ": must be an address or {\"address\", "
                           "\"subnets\"}");
    }
    if (p.address.is_multicast() || p.address.is_unspecified()) {
        throw config_error("invalid " + where + " " + p.address.to_string() +
                           ": not a unicast address");
    }
    if (mode == Mode::Routed && p.subnets.empty()) {
        throw config_error(where + " " + p.address.to_string() +
                           " has no \"subnets\": routed mode needs each node's subnets");
    }
    return p;
}

// The network of an object's "subnet", if it has a valid one.
void add_subnet(const json& obj, std::vector<netlib::IpNet>& out) {
    if (!obj.is_object()) {
        return;
    }
    if (auto s = cni::json_util::get_string(obj, "subnet")) {
        if (auto net = netlib::IpNet::try_parse(*s)) {
            out.push_back(net->network());
        }
    }
}

// The subnets of host-local's `ranges` (and the older `subnet`), as this node hands them out.
std::vector<netlib::IpNet> ipam_subnets(const json& ipam) {
    std::vector<netlib::IpNet> out;
    if (!ipam.is_object()) {
        return out;
    }
    add_subnet(ipam, out);
    const json* ranges = cni::json_util::find(ipam, "ranges");
    if (ranges == nullptr || !ranges->is_array()) {
        return out;
    }
    for (const json& set : *ranges) {
        for (const json& r : set.is_array() ? set : json::array()) {
            add_subnet(r, out);
        }
    }
    return out;
}

void refuse_bridge_keys(const json& j, Mode mode) {
    for (const char* key : {"vlan", "vlanTrunk"}) {
        if (const json* v = cni::json_util::find(j, key); v && !v->is_null()) {
            throw cni::Error(cni::Code::UnsupportedField,
                             std::string{"\""} + key + "\" is not supported by the vxlan plugin");
        }
    }
    if (mode == Mode::Routed && cni::json_util::get_bool(j, "ipMasq").value_or(false)) {
        throw cni::Error(cni::Code::UnsupportedField,
                         "\"ipMasq\" is not supported in routed mode: it would masquerade the "
                         "traffic to the other nodes' subnets");
    }
}

}  // namespace

namespace {

Mode parse_mode(const json& j) {
    std::string mode = cni::json_util::get_string(j, "mode").value_or("l2");
    if (mode != "l2" && mode != "routed") {
        throw config_error("invalid \"mode\" \"" + mode + "\": must be \"l2\" or \"routed\"");
    }
    return mode == "routed" ? Mode::Routed : Mode::L2;
}

// `dev`, `local`, `group` and how they fit together and with the peers.
void parse_underlay(const json& j, Config& c) {
    if (cni::json_util::get_string(j, "dev")) {
        c.dev = ifname_key(j, "dev", "");
    }
    c.local = address_key(j, "local");
    c.group = address_key(j, "group");
    if (c.dev.empty() && !c.local) {
        throw config_error("the underlay is not given: set \"dev\" or \"local\"");
    }
    if (c.group && (!c.group->is_multicast() || c.mode == Mode::Routed)) {
        throw config_error("invalid \"group\" " + c.group->to_string() +
                           (c.mode == Mode::Routed ? ": routed mode does not flood"
                                                   : ": not a multicast address"));
    }
    if (c.group && c.local && c.group->family() != c.local->family()) {
        throw config_error("\"group\" and \"local\" must be of the same address family");
    }
    if (c.group && c.dev.empty()) {
        throw config_error("\"group\" needs \"dev\": the underlay device joins the group");
    }
}

std::vector<Peer> parse_peers(const json& j, const Config& c) {
    std::vector<Peer> out;
    const json* peers = cni::json_util::find(j, "peers");
    if (peers == nullptr || peers->is_null()) {
        return out;
    }
    if (!peers->is_array()) {
        throw config_error("invalid \"peers\": must be a list");
    }
    auto family = c.local   ? c.local->family()
                  : c.group ? c.group->family()
                            : std::optional<netlib::Family>{};
    for (std::size_t i = 0; i < peers->size(); ++i) {
        out.push_back(parse_peer((*peers)[i], c.mode, i));
        if (family && out.back().address.family() != *family) {
            throw config_error("peer " + out.back().address.to_string() +
                               " is not of the underlay's address family");
        }
    }
    return out;
}

}  // namespace

Config Config::parse(const cni::Request& req) {
    const json& j = req.config;
    Config c;
    c.mode = parse_mode(j);
    refuse_bridge_keys(j, c.mode);
    auto vni = cni::json_util::get_int(j, "vni");
    if (!vni || *vni < 1 || *vni > kMaxVni) {
        throw config_error("invalid or missing \"vni\": must be an integer in 1..16777215");
    }
    c.vni = static_cast<std::uint32_t>(*vni);
    c.port =
        static_cast<std::uint16_t>(cni::json_util::get_int_in(j, "port", 1, 65535).value_or(4789));
    parse_underlay(j, c);
    c.learning = cni::json_util::get_bool(j, "learning").value_or(c.mode == Mode::L2);
    if (auto mtu = cni::json_util::get_int_in(j, "mtu", 0, 65535); mtu && *mtu != 0) {
        if (*mtu < 68) {
            throw config_error("invalid \"mtu\" " + std::to_string(*mtu) + ": must be at least 68");
        }
        c.mtu = static_cast<unsigned>(*mtu);
    }
    c.bridge = ifname_key(j, "bridge", kDefaultBridge);
    c.device = ifname_key(j, "vxlanName", "vx-" + c.bridge);
    if (c.device == c.bridge) {
        throw config_error("\"vxlanName\" and \"bridge\" must differ");
    }
    c.peers = parse_peers(j, c);
    if (c.mode == Mode::Routed) {
        c.local_subnets = ipam_subnets(req.conf.ipam);
    }
    return c;
}

void Config::check_subnets(const std::optional<netlib::IpAddr>& self) const {
    struct Owned {
        netlib::IpNet net;
        std::string owner;
    };

    std::vector<Owned> all;
    for (const auto& s : local_subnets) {
        all.push_back({s, "this node's IPAM"});
    }
    for (const auto& p : peers) {
        if (p.address == self) {
            continue;  // this node: its subnets are the IPAM ones
        }
        for (const auto& s : p.subnets) {
            for (const auto& o : all) {
                if (o.net.overlaps(s)) {
                    throw config_error("subnet " + s.to_string() + " of peer " +
                                       p.address.to_string() + " overlaps " + o.net.to_string() +
                                       " of " + o.owner);
                }
            }
        }
        for (const auto& s : p.subnets) {
            all.push_back({s, "peer " + p.address.to_string()});
        }
    }
}

}  // namespace vxlan
