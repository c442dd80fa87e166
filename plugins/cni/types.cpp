#include "plugins/cni/types.hpp"

#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"

namespace cni {
namespace {

[[noreturn]] void bad_field(const std::string& what, const std::string& why) {
    throw Error(Code::Decode, "failed to parse result: " + what + ": " + why);
}

std::string req_string(const json& j, const char* key, const std::string& ctx) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
        bad_field(ctx + "." + key, "missing or not a string");
    }
    return it->get<std::string>();
}

std::string opt_string(const json& j, const char* key, const std::string& ctx) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return {};
    }
    if (!it->is_string()) {
        bad_field(ctx + "." + key, "not a string");
    }
    return it->get<std::string>();
}

std::optional<int> opt_int(const json& j, const char* key, const std::string& ctx) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return std::nullopt;
    }
    if (!it->is_number_integer()) {
        bad_field(ctx + "." + key, "not an integer");
    }
    return it->get<int>();
}

std::vector<std::string> opt_strings(const json& j, const char* key, const std::string& ctx) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return out;
    }
    if (!it->is_array()) {
        bad_field(ctx + "." + key, "not a list");
    }
    for (const auto& s : *it) {
        if (!s.is_string()) {
            bad_field(ctx + "." + key, "not a list of strings");
        }
        out.push_back(s.get<std::string>());
    }
    return out;
}

netlib::IpNet cidr(const std::string& text, const std::string& ctx) {
    auto n = netlib::IpNet::try_parse(text);
    if (!n) {
        bad_field(ctx, "invalid CIDR \"" + text + "\"");
    }
    return *n;
}

std::optional<netlib::IpAddr> opt_ip(const json& j, const char* key, const std::string& ctx) {
    auto s = opt_string(j, key, ctx);
    if (s.empty()) {
        return std::nullopt;
    }
    auto ip = netlib::IpAddr::try_parse(s);
    if (!ip) {
        bad_field(ctx + "." + key, "invalid IP \"" + s + "\"");
    }
    return ip;
}

const json& list_or_empty(const json& j, const char* key, const std::string& ctx) {
    static const json kEmpty = json::array();
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return kEmpty;
    }
    if (!it->is_array()) {
        bad_field(ctx + key, "not a list");
    }
    return *it;
}

// 0.1.0/0.2.0: {"ip4": {"ip", "gateway", "routes"}, "ip6": {...}, "dns"}
void parse_legacy_ip(const json& j, const char* key, Result& r) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return;
    }
    IpConfig ip;
    ip.address = cidr(req_string(*it, "ip", key), std::string{key} + ".ip");
    ip.gateway = opt_ip(*it, "gateway", key);
    r.ips.push_back(ip);
    for (const auto& route : list_or_empty(*it, "routes", key)) {
        r.routes.push_back(parse_route(route));
    }
}

json legacy_ip_json(const IpConfig& ip, const std::vector<Route>& routes) {
    json out = {{"ip", ip.address.to_string()}};
    if (ip.gateway) {
        out["gateway"] = ip.gateway->to_string();
    }
    json rs = json::array();
    for (const auto& r : routes) {
        if (r.dst.family() == ip.address.family()) {
            rs.push_back(to_json(r));
        }
    }
    if (!rs.empty()) {
        out["routes"] = rs;
    }
    return out;
}

json legacy_json(const Result& r, const Version& v) {
    json out = {{"cniVersion", v.to_string()}};
    const IpConfig* v4 = nullptr;
    const IpConfig* v6 = nullptr;
    for (const auto& ip : r.ips) {
        const IpConfig*& slot = ip.address.family() == netlib::Family::V4 ? v4 : v6;
        if (slot == nullptr) {
            slot = &ip;
        }
    }
    if (v4 == nullptr && v6 == nullptr) {
        throw Error(Code::IncompatibleVersion,
                    "cannot convert result to version " + v.to_string() + ": no IP addresses");
    }
    if (v4 != nullptr) {
        out["ip4"] = legacy_ip_json(*v4, r.routes);
    }
    if (v6 != nullptr) {
        out["ip6"] = legacy_ip_json(*v6, r.routes);
    }
    out["dns"] = to_json(r.dns);
    return out;
}

json interface_json(const Interface& i, bool v1_1) {
    json out = {{"name", i.name}};
    if (!i.mac.empty()) {
        out["mac"] = i.mac;
    }
    if (v1_1 && i.mtu) {
        out["mtu"] = *i.mtu;
    }
    if (!i.sandbox.empty()) {
        out["sandbox"] = i.sandbox;
    }
    if (v1_1 && !i.socket_path.empty()) {
        out["socketPath"] = i.socket_path;
    }
    if (v1_1 && !i.pci_id.empty()) {
        out["pciID"] = i.pci_id;
    }
    return out;
}

}  // namespace

Route parse_route(const json& j) {
    if (!j.is_object()) {
        bad_field("route", "not an object");
    }
    Route r;
    r.dst = cidr(req_string(j, "dst", "route"), "route.dst");
    r.gw = opt_ip(j, "gw", "route");
    r.mtu = opt_int(j, "mtu", "route");
    r.advmss = opt_int(j, "advmss", "route");
    r.priority = opt_int(j, "priority", "route");
    r.table = opt_int(j, "table", "route");
    r.scope = opt_int(j, "scope", "route");
    return r;
}

Dns parse_dns(const json& j) {
    Dns d;
    if (j.is_null()) {
        return d;
    }
    if (!j.is_object()) {
        bad_field("dns", "not an object");
    }
    d.nameservers = opt_strings(j, "nameservers", "dns");
    d.domain = opt_string(j, "domain", "dns");
    d.search = opt_strings(j, "search", "dns");
    d.options = opt_strings(j, "options", "dns");
    return d;
}

Result parse_result(const json& j) {
    if (!j.is_object()) {
        bad_field("result", "not an object");
    }
    Result r;
    if (auto it = j.find("dns"); it != j.end()) {
        r.dns = parse_dns(*it);
    }
    if (j.contains("ip4") || j.contains("ip6")) {
        parse_legacy_ip(j, "ip4", r);
        parse_legacy_ip(j, "ip6", r);
        return r;
    }
    for (const auto& i : list_or_empty(j, "interfaces", "")) {
        if (!i.is_object()) {
            bad_field("interfaces", "not a list of objects");
        }
        r.interfaces.push_back(
            {req_string(i, "name", "interface"), opt_string(i, "mac", "interface"),
             opt_int(i, "mtu", "interface"), opt_string(i, "sandbox", "interface"),
             opt_string(i, "socketPath", "interface"), opt_string(i, "pciID", "interface")});
    }
    for (const auto& ip : list_or_empty(j, "ips", "")) {
        if (!ip.is_object()) {
            bad_field("ips", "not a list of objects");
        }
        IpConfig c;
        c.address = cidr(req_string(ip, "address", "ips"), "ips.address");
        c.gateway = opt_ip(ip, "gateway", "ips");
        c.interface = opt_int(ip, "interface", "ips");
        r.ips.push_back(c);
    }
    for (const auto& route : list_or_empty(j, "routes", "")) {
        r.routes.push_back(parse_route(route));
    }
    return r;
}

json to_json(const Route& r) {
    json out = {{"dst", r.dst.to_string()}};
    if (r.gw) {
        out["gw"] = r.gw->to_string();
    }
    const std::pair<const char*, const std::optional<int>*> extras[] = {{"mtu", &r.mtu},
                                                                        {"advmss", &r.advmss},
                                                                        {"priority", &r.priority},
                                                                        {"table", &r.table},
                                                                        {"scope", &r.scope}};
    for (const auto& [key, value] : extras) {
        if (*value) {
            out[key] = **value;
        }
    }
    return out;
}

json to_json(const Dns& d) {
    json out = json::object();
    if (!d.nameservers.empty()) {
        out["nameservers"] = d.nameservers;
    }
    if (!d.domain.empty()) {
        out["domain"] = d.domain;
    }
    if (!d.search.empty()) {
        out["search"] = d.search;
    }
    if (!d.options.empty()) {
        out["options"] = d.options;
    }
    return out;
}

json to_json(const Result& r, const Version& v) {
    if (v < kV030) {
        return legacy_json(r, v);
    }
    json out = {{"cniVersion", v.to_string()}};
    bool with_family = v < kV100;
    bool v1_1 = v >= kV110;
    if (!r.interfaces.empty()) {
        json ifs = json::array();
        for (const auto& i : r.interfaces) {
            ifs.push_back(interface_json(i, v1_1));
        }
        out["interfaces"] = ifs;
    }
    if (!r.ips.empty()) {
        json ips = json::array();
        for (const auto& ip : r.ips) {
            json o;
            if (with_family) {
                o["version"] = ip.address.family() == netlib::Family::V4 ? "4" : "6";
            }
            if (ip.interface) {
                o["interface"] = *ip.interface;
            }
            o["address"] = ip.address.to_string();
            if (ip.gateway) {
                o["gateway"] = ip.gateway->to_string();
            }
            ips.push_back(o);
        }
        out["ips"] = ips;
    }
    if (!r.routes.empty()) {
        json routes = json::array();
        for (const auto& route : r.routes) {
            routes.push_back(to_json(route));
        }
        out["routes"] = routes;
    }
    out["dns"] = to_json(r.dns);
    return out;
}

}  // namespace cni
