#include "plugins/portmap/config.hpp"

#include <algorithm>
#include <cctype>

#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"

namespace portmap {
namespace {

using cni::json_util::json;

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

netlib::L4Proto parse_proto(const json& entry, const std::string& where) {
    auto text = lower(cni::json_util::get_string(entry, "protocol").value_or("tcp"));
    if (text == "tcp" || text.empty()) {
        return netlib::L4Proto::Tcp;
    }
    if (text == "udp") {
        return netlib::L4Proto::Udp;
    }
    if (text == "sctp") {
        return netlib::L4Proto::Sctp;
    }
    throw cni::config_error("invalid \"protocol\" \"" + text + "\" in " + where +
                            ": must be \"tcp\", \"udp\" or \"sctp\"");
}

std::uint16_t port(const json& entry, std::string_view key, const std::string& where) {
    auto p = cni::json_util::get_int(entry, key);
    if (!p) {
        throw cni::config_error("missing \"" + std::string(key) + "\" in " + where);
    }
    if (*p < 1 || *p > 65535) {
        throw cni::config_error("invalid \"" + std::string(key) + "\" " + std::to_string(*p) +
                                " in " + where + ": must be 1 to 65535");
    }
    return static_cast<std::uint16_t>(*p);
}

PortMapEntry parse_entry(const json& entry, std::size_t index) {
    std::string where = "runtimeConfig.portMappings[" + std::to_string(index) + "]";
    if (!entry.is_object()) {
        throw cni::config_error(where + " must be an object");
    }
    PortMapEntry e;
    e.proto = parse_proto(entry, where);
    e.host_port = port(entry, "hostPort", where);
    e.container_port = port(entry, "containerPort", where);
    e.host_port_end = e.host_port;
    if (cni::json_util::find(entry, "hostPortEnd") != nullptr) {
        e.host_port_end = port(entry, "hostPortEnd", where);
        int len = e.host_port_end - e.host_port + 1;
        if (len < 1) {
            throw cni::config_error("invalid \"hostPortEnd\" in " + where +
                                    ": must not be below \"hostPort\"");
        }
        if (len > netlib::kPortmapMaxRange) {
            throw cni::config_error(where + ": " + netlib::portmap_range_too_long(len));
        }
        if (e.container_port + len - 1 > 65535) {
            throw cni::config_error("port range of " + where + " runs past container port 65535");
        }
    }
    if (auto ip = cni::json_util::get_string(entry, "hostIP"); ip && !ip->empty()) {
        auto addr = netlib::IpAddr::try_parse(*ip);
        if (!addr) {
            throw cni::config_error("invalid \"hostIP\" \"" + *ip + "\" in " + where);
        }
        if (!addr->is_unspecified()) {
            e.host_ip = addr;
        }
    }
    return e;
}

void reject_iptables_only(const json& j) {
    if (auto backend = cni::json_util::get_string(j, "backend");
        backend && !backend->empty() && *backend != "nftables") {
        if (*backend == "iptables") {
            throw cni::config_error(
                "\"backend\" \"iptables\" is not supported: sdnet's portmap is nftables-only",
                "remove \"backend\" or set it to \"nftables\"");
        }
        throw cni::config_error("invalid \"backend\" \"" + *backend + "\": must be \"nftables\"");
    }
    if (cni::json_util::find(j, "externalSetMarkChain") != nullptr) {
        throw cni::config_error(
            "\"externalSetMarkChain\" is iptables-only: sdnet's portmap uses nftables and needs "
            "no mark chain",
            "remove \"externalSetMarkChain\"");
    }
}

}  // namespace

Config Config::parse(const cni::Request& req) {
    const json& j = req.config;
    Config c;
    reject_iptables_only(j);
    c.snat = cni::json_util::get_bool(j, "snat").value_or(true);
    c.masq_all = cni::json_util::get_bool(j, "masqAll").value_or(false);
    c.mark_masq_bit =
        static_cast<int>(cni::json_util::get_int_in(j, "markMasqBit", 0, 31).value_or(13));
    if (const json* v4 = cni::json_util::get_array(j, "conditionsV4")) {
        c.conditions4 = parse_conditions(*v4, "conditionsV4", netlib::Family::V4);
    }
    if (const json* v6 = cni::json_util::get_array(j, "conditionsV6")) {
        c.conditions6 = parse_conditions(*v6, "conditionsV6", netlib::Family::V6);
    }
    if (const json* list = cni::json_util::get_array(req.conf.runtime_config, "portMappings")) {
        for (std::size_t i = 0; i < list->size(); ++i) {
            c.mappings.push_back(parse_entry((*list)[i], i));
        }
    }
    return c;
}

}  // namespace portmap
