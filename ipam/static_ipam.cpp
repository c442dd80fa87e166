#include "ipam/static_ipam.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "plugins/cni/error.hpp"
#include "plugins/cni/gc.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/common/container_iface.hpp"

namespace ipam {
namespace {

using nlohmann::json;
namespace ju = cni::json_util;

std::string trim(std::string_view s) {
    auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    return std::string{s.substr(first, s.find_last_not_of(" \t") - first + 1)};
}

std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t comma; (comma = text.find(',', start)) != std::string_view::npos;
         start = comma + 1) {
        out.push_back(trim(text.substr(start, comma - start)));
    }
    out.push_back(trim(text.substr(start)));
    return out;
}

// "10.1.2.3/24" (host bits kept: they are the interface's address); a bare address is refused,
// as the reference refuses it: the prefix decides the connected route.
netlib::IpNet address_of(const json& value, const std::string& key) {
    const std::string& text = ju::as_string(value, key);
    if (text.find('/') == std::string::npos) {
        throw cni::config_error("\"" + key + "\" must be an address with a prefix length, got \"" +
                                text + "\"");
    }
    auto net = netlib::IpNet::try_parse(text);
    if (!net) {
        throw cni::config_error("\"" + key + "\" is not a valid CIDR: \"" + text + "\"");
    }
    return *net;
}

cni::IpConfig configured_address(const json& entry, const std::string& key) {
    if (!entry.is_object()) {
        throw cni::config_error("\"" + key + "\" must be an object with \"address\"");
    }
    const json* address = ju::find(entry, "address");
    if (address == nullptr) {
        throw cni::config_error("\"" + key + ".address\" is missing");
    }
    cni::IpConfig ip;
    ip.address = address_of(*address, key + ".address");
    if (const json* gw = ju::find(entry, "gateway")) {
        auto addr = netlib::IpAddr::try_parse(ju::as_string(*gw, key + ".gateway"));
        if (!addr) {
            throw cni::config_error("\"" + key + ".gateway\" is not an IP address: " + gw->dump());
        }
        if (addr->family() != ip.address.family()) {
            throw cni::config_error("\"" + key + ".gateway\" " + addr->to_string() +
                                    " is not of the family of " + ip.address.to_string());
        }
        ip.gateway = addr;
    }
    return ip;
}

std::vector<cni::IpConfig> configured_addresses(const json& ipam) {
    std::vector<cni::IpConfig> out;
    if (const json* list = ju::get_array(ipam, "addresses")) {
        for (size_t i = 0; i < list->size(); ++i) {
            out.push_back(
                configured_address((*list)[i], "ipam.addresses[" + std::to_string(i) + "]"));
        }
    }
    return out;
}

void apply_cni_args(std::string_view text, std::vector<cni::IpConfig>& addresses) {
    if (text.empty()) {
        return;
    }
    auto args = cni::CniArgs::parse(text);
    args.check_known({"IP", "GATEWAY"});
    if (auto ips = args.get("IP"); ips && !ips->empty()) {
        for (const auto& one : split_commas(*ips)) {
            auto net = netlib::IpNet::try_parse(one);
            if (!net || one.find('/') == std::string::npos) {
                throw cni::Error(cni::Code::InvalidEnv,
                                 "CNI_ARGS IP: \"" + one + "\" is not an address with a prefix");
            }
            addresses.push_back({*net, std::nullopt, std::nullopt});
        }
    }
    if (auto gws = args.get("GATEWAY"); gws && !gws->empty()) {
        for (const auto& one : split_commas(*gws)) {
            auto gw = netlib::IpAddr::try_parse(one);
            if (!gw) {
                throw cni::Error(cni::Code::InvalidEnv,
                                 "CNI_ARGS GATEWAY: \"" + one + "\" is not an IP address");
            }
            for (auto& ip : addresses) {
                if (ip.address.contains(*gw)) {
                    ip.gateway = gw;
                }
            }
        }
    }
}

// args.cni.ips / runtimeConfig.ips: a list of CIDRs replacing the addresses, when present.
std::optional<std::vector<cni::IpConfig>> override_ips(const json& config, const char* object,
                                                       const char* inner) {
    const json* outer = ju::get_object(config, object);
    if (outer == nullptr) {
        return std::nullopt;
    }
    std::string base = object;
    if (inner != nullptr) {
        outer = ju::get_object(*outer, inner);
        base += std::string{"."} + inner;
        if (outer == nullptr) {
            return std::nullopt;
        }
    }
    const json* list = ju::get_array(*outer, "ips");
    if (list == nullptr || list->empty()) {
        return std::nullopt;
    }
    std::vector<cni::IpConfig> out;
    for (size_t i = 0; i < list->size(); ++i) {
        std::string key = base + ".ips[" + std::to_string(i) + "]";
        out.push_back({address_of((*list)[i], key), std::nullopt, std::nullopt});
    }
    return out;
}

void validate_addresses(const std::vector<cni::IpConfig>& addresses, const cni::Version& v) {
    for (size_t i = 0; i < addresses.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
            if (addresses[j].address.addr() == addresses[i].address.addr()) {
                throw cni::config_error("\"ipam.addresses\": address " +
                                        addresses[i].address.addr().to_string() +
                                        " is given twice");
            }
        }
    }
    if (v >= cni::kV030) {
        return;
    }
    for (auto f : {netlib::Family::V4, netlib::Family::V6}) {
        auto n = std::count_if(addresses.begin(), addresses.end(),
                               [f](const cni::IpConfig& ip) { return ip.address.family() == f; });
        if (n > 1) {
            throw cni::config_error("\"ipam.addresses\": cniVersion " + v.to_string() +
                                    " allows one address per family");
        }
    }
}

std::vector<cni::Route> configured_routes(const json& ipam) {
    std::vector<cni::Route> out;
    if (const json* list = ju::get_array(ipam, "routes")) {
        for (size_t i = 0; i < list->size(); ++i) {
            try {
                out.push_back(cni::parse_route((*list)[i]));
            } catch (const cni::Error& e) {
                throw cni::config_error(
                    "\"ipam.routes[" + std::to_string(i) + "]\" is invalid: " + e.what(),
                    e.details());
            }
        }
    }
    return out;
}

cni::Dns configured_dns(const json& ipam) {
    const json* dns = ju::get_object(ipam, "dns");
    if (dns == nullptr) {
        return {};
    }
    try {
        return cni::parse_dns(*dns);
    } catch (const cni::Error& e) {
        throw cni::config_error(std::string{"\"ipam.dns\" is invalid: "} + e.what(), e.details());
    }
}

const json& ipam_section(const json& config) {
    const json* ipam = ju::get_object(config, "ipam");
    if (ipam == nullptr) {
        throw cni::config_error("\"ipam\" is missing: the static plugin reads its addresses there");
    }
    return *ipam;
}

cni::Result add(const cni::Request& req) {
    return static_result(req.config, req.conf.version, req.env.args);
}

// The addresses the configuration names must all be in prevResult, with their gateways.
void check(const cni::Request& req) {
    const cni::Result& prev = plugin::require_prev_result(req);
    cni::Result want = static_result(req.config, req.conf.version, req.env.args);
    for (const auto& ip : want.ips) {
        auto found = std::find_if(prev.ips.begin(), prev.ips.end(),
                                  [&](const cni::IpConfig& p) { return p.address == ip.address; });
        if (found == prev.ips.end()) {
            throw cni::Error(
                cni::Code::Internal,
                "CHECK failed: address " + ip.address.to_string() + " is not in prevResult");
        }
        if (ip.gateway && found->gateway != ip.gateway) {
            throw cni::Error(cni::Code::Internal, "CHECK failed: gateway of " +
                                                      ip.address.to_string() + " is not " +
                                                      ip.gateway->to_string() + " in prevResult");
        }
    }
}

void status(const cni::Request& req) {
    (void)static_result(req.config, req.conf.version, {});
}

}  // namespace

cni::Result static_result(const json& config, const cni::Version& version,
                          std::string_view cni_args) {
    const json& ipam = ipam_section(config);
    cni::Result r;
    r.ips = configured_addresses(ipam);
    apply_cni_args(cni_args, r.ips);
    if (auto ips = override_ips(config, "args", "cni")) {
        r.ips = std::move(*ips);
    }
    if (auto ips = override_ips(config, "runtimeConfig", nullptr)) {
        r.ips = std::move(*ips);
    }
    validate_addresses(r.ips, version);
    r.routes = configured_routes(ipam);
    r.dns = configured_dns(ipam);
    return r;
}

cni::Plugin static_plugin() {
    cni::Plugin p;
    p.name = "static";
    p.add = add;
    p.del = [](const cni::Request&) {};  // nothing was reserved
    p.check = check;
    // Nothing to collect, but a malformed list of valid attachments is code 7, as everywhere.
    p.gc = [](const cni::Request& req) { (void)cni::ValidAttachments::parse(req.config); };
    p.status = status;
    return p;
}

}  // namespace ipam
