#include "plugins/bridge/config.hpp"

#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/common/link_config.hpp"

namespace bridge {
namespace {

using cni::json_util::get_bool;
using cni::json_util::json;

using plugin::parse_mac;

// Precedence as in the reference: CNI_ARGS MAC < args.cni.mac < runtimeConfig.mac.
std::optional<netlib::MacAddr> container_mac(const cni::Request& req) {
    if (auto mac = cni::json_util::get_string(req.conf.runtime_config, "mac")) {
        return parse_mac(*mac, "runtimeConfig.mac");
    }
    if (const json* cni_args = cni::json_util::get_object(req.conf.args, "cni")) {
        if (auto mac = cni::json_util::get_string(*cni_args, "mac")) {
            return parse_mac(*mac, "args.cni.mac");
        }
    }
    auto args = cni::CniArgs::parse(req.env.args);
    args.check_known({"MAC", "IP", "K8S_POD_NAME", "K8S_POD_NAMESPACE",
                      "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID"});
    if (auto mac = args.get("MAC")) {
        return parse_mac(*mac, "CNI_ARGS MAC");
    }
    return std::nullopt;
}

std::uint16_t trunk_vid(const json& item, const char* key) {
    const json* v = cni::json_util::find(item, key);
    if (v == nullptr || !v->is_number_integer() || v->get<std::int64_t>() < 1 ||
        v->get<std::int64_t>() > 4094) {
        throw cni::config_error(std::string{"invalid \"vlanTrunk\" "} + key +
                                ": must be an integer between 1 and 4094");
    }
    return static_cast<std::uint16_t>(v->get<std::int64_t>());
}

// `vlanTrunk`: [{"id": N} | {"minID": A, "maxID": B}, ...], as the reference reads it.
std::vector<std::uint16_t> parse_trunk(const json& trunk) {
    std::vector<bool> seen(4095, false);
    for (const json& item : trunk) {
        if (!item.is_object()) {
            throw cni::config_error("invalid \"vlanTrunk\" entry " + item.dump() +
                                    ": must be {\"id\": N} or {\"minID\": A, \"maxID\": B}");
        }
        bool has_min = cni::json_util::find(item, "minID") != nullptr;
        bool has_max = cni::json_util::find(item, "maxID") != nullptr;
        if (has_min != has_max) {
            throw cni::config_error("\"vlanTrunk\": minID and maxID must be given together");
        }
        if (has_min) {
            std::uint16_t lo = trunk_vid(item, "minID");
            std::uint16_t hi = trunk_vid(item, "maxID");
            if (hi < lo) {
                throw cni::config_error("\"vlanTrunk\": minID is greater than maxID");
            }
            for (unsigned v = lo; v <= hi; ++v) {
                seen[v] = true;
            }
        }
        if (cni::json_util::find(item, "id") != nullptr) {
            seen[trunk_vid(item, "id")] = true;
        }
    }
    std::vector<std::uint16_t> vids;
    for (unsigned v = 1; v < seen.size(); ++v) {
        if (seen[v]) {
            vids.push_back(static_cast<std::uint16_t>(v));
        }
    }
    return vids;
}

void parse_vlans(const json& j, Config& c) {
    c.vlan = static_cast<std::uint16_t>(cni::json_util::get_int_in(j, "vlan", 0, 4094).value_or(0));
    if (const json* trunk = cni::json_util::find(j, "vlanTrunk"); trunk && !trunk->is_null()) {
        if (!trunk->is_array()) {
            throw cni::config_error("invalid \"vlanTrunk\": must be a list");
        }
        c.vlan_trunk_given = true;
        c.vlan_trunk = parse_trunk(*trunk);
    }
    c.preserve_default_vlan = get_bool(j, "preserveDefaultVlan").value_or(false);
}

}  // namespace

Config Config::parse(const cni::Request& req) {
    const json& j = req.config;
    Config c;
    if (auto name = cni::json_util::get_string(j, "bridge")) {
        if (auto problem = cni::ifname_problem(*name)) {
            throw cni::config_error("invalid \"bridge\" name \"" + *name + "\": " + *problem);
        }
        c.bridge = *name;
    }
    c.is_default_gateway = get_bool(j, "isDefaultGateway").value_or(false);
    c.is_gateway = get_bool(j, "isGateway").value_or(false) || c.is_default_gateway;
    c.force_address = get_bool(j, "forceAddress").value_or(false);
    c.ip_masq = get_bool(j, "ipMasq").value_or(false);
    if (auto mtu = cni::json_util::get_int_in(j, "mtu", 0, 65535); mtu && *mtu != 0) {
        if (*mtu < 68) {
            throw cni::config_error("invalid \"mtu\" " + std::to_string(*mtu) +
                                    ": must be at least 68");
        }
        c.mtu = static_cast<unsigned>(*mtu);
    }
    c.hairpin_mode = get_bool(j, "hairpinMode").value_or(false);
    c.promisc_mode = get_bool(j, "promiscMode").value_or(false);
    if (c.hairpin_mode && c.promisc_mode) {
        throw cni::config_error("cannot set \"hairpinMode\" and \"promiscMode\" at the same time");
    }
    c.macspoofchk = get_bool(j, "macspoofchk").value_or(false);
    c.enable_dad = get_bool(j, "enabledad").value_or(false);
    c.port_isolation = get_bool(j, "portIsolation").value_or(false);
    c.disable_container_interface = get_bool(j, "disableContainerInterface").value_or(false);
    c.has_ipam = !req.conf.ipam_type.empty();
    if (c.disable_container_interface && c.has_ipam) {
        throw cni::config_error(
            "\"disableContainerInterface\" cannot be used with \"ipam\": addresses need the "
            "interface up");
    }
    if (auto backend = cni::json_util::get_string(j, "ipMasqBackend");
        backend && *backend != "nftables" && !backend->empty()) {
        if (*backend != "iptables") {
            throw cni::config_error("invalid \"ipMasqBackend\" \"" + *backend +
                                    "\": must be \"nftables\" or \"iptables\"");
        }
        // sdnet always uses nftables; iptables is accepted for configs written for the reference.
    }
    parse_vlans(j, c);
    if (req.env.command == cni::Command::Add) {
        c.mac = container_mac(req);
    }
    return c;
}

}  // namespace bridge
