#include "plugins/bridge/config.hpp"

#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"

namespace bridge {
namespace {

using cni::json_util::get_bool;
using cni::json_util::json;

netlib::MacAddr parse_mac(const std::string& text, const std::string& where) {
    try {
        return netlib::MacAddr::parse(text);
    } catch (const std::invalid_argument&) {
        throw cni::config_error("invalid MAC address in " + where + ": \"" + text + "\"");
    }
}

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

void reject_vlans(const json& config) {
    auto vlan = cni::json_util::get_int_in(config, "vlan", 0, 4094);
    const json* trunk = cni::json_util::get_array(config, "vlanTrunk");
    if ((vlan && *vlan != 0) || (trunk != nullptr && !trunk->empty())) {
        // Checked at start-up of this kernel: IFLA_BR_VLAN_FILTERING gives EOPNOTSUPP.
        throw cni::Error(cni::Code::UnsupportedField,
                         "\"vlan\"/\"vlanTrunk\" need bridge VLAN filtering, which this kernel "
                         "does not support (CONFIG_BRIDGE_VLAN_FILTERING)");
    }
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
    reject_vlans(j);
    if (req.env.command == cni::Command::Add) {
        c.mac = container_mac(req);
    }
    return c;
}

}  // namespace bridge
