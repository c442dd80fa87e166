#include "ipam/config.hpp"

#include <algorithm>
#include <climits>

#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/cni/version.hpp"

namespace ipam {
namespace {

using cni::json_util::find;
using netlib::IpAddr;
using netlib::IpNet;
using nlohmann::json;

[[noreturn]] void invalid(const std::string& key, const std::string& why) {
    throw cni::config_error("invalid configuration: \"" + key + "\" " + why);
}

std::string at(const std::string& path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

const std::string* string_at(const json& obj, std::string_view key, const std::string& path) {
    const json* v = find(obj, key);
    if (v == nullptr) {
        return nullptr;
    }
    if (!v->is_string()) {
        invalid(path, std::string{"must be a string, got "} + v->type_name());
    }
    return &v->get_ref<const std::string&>();
}

const json* array_at(const json& obj, std::string_view key, const std::string& path) {
    const json* v = find(obj, key);
    if (v != nullptr && !v->is_array()) {
        invalid(path, std::string{"must be a list, got "} + v->type_name());
    }
    return v;
}

const json* object_at(const json& obj, std::string_view key, const std::string& path) {
    const json* v = find(obj, key);
    if (v != nullptr && !v->is_object()) {
        invalid(path, std::string{"must be an object, got "} + v->type_name());
    }
    return v;
}

// rangeStart, rangeEnd, gateway, route gw: "" means absent, as for Go's net.IP.
std::optional<IpAddr> ip_at(const json& obj, std::string_view key, const std::string& path) {
    const std::string* s = string_at(obj, key, path);
    if (s == nullptr || s->empty()) {
        return std::nullopt;
    }
    auto ip = IpAddr::try_parse(*s);
    if (!ip) {
        invalid(path, "is not an IP address: \"" + *s + "\"");
    }
    return canonical(*ip);
}

IpNet cidr_at(const json& obj, std::string_view key, const std::string& path) {
    const std::string* s = string_at(obj, key, path);
    if (s == nullptr || s->empty()) {
        invalid(path, "is required");
    }
    auto net = IpNet::try_parse(*s);
    if (!net) {
        invalid(path, "is not a CIDR: \"" + *s + "\"");
    }
    return *net;
}

std::optional<int> int_at(const json& obj, std::string_view key, const std::string& path) {
    const json* v = find(obj, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_number_integer() || v->get<std::int64_t>() < INT_MIN ||
        v->get<std::int64_t>() > INT_MAX) {
        invalid(path, "must be an integer, got " + v->dump());
    }
    return static_cast<int>(v->get<std::int64_t>());
}

Range parse_range(const json& obj, const std::string& path) {
    if (!obj.is_object()) {
        invalid(path, std::string{"must be an object, got "} + obj.type_name());
    }
    return Range::make(
        cidr_at(obj, "subnet", path + ".subnet"), ip_at(obj, "rangeStart", path + ".rangeStart"),
        ip_at(obj, "rangeEnd", path + ".rangeEnd"), ip_at(obj, "gateway", path + ".gateway"), path);
}

struct NamedSet {
    RangeSet set;
    std::string key;
};

void parse_sets(const json* list, const std::string& path, std::vector<NamedSet>& out) {
    if (list == nullptr) {
        return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
        const json& set = (*list)[i];
        std::string key = at(path, i);
        if (!set.is_array()) {
            invalid(key, std::string{"must be a list of ranges, got "} + set.type_name());
        }
        std::vector<Range> ranges;
        for (std::size_t j = 0; j < set.size(); ++j) {
            ranges.push_back(parse_range(set[j], at(key, j)));
        }
        out.push_back({RangeSet::make(std::move(ranges), key), key});
    }
}

void check_sets(const std::vector<NamedSet>& sets, const cni::Version& version) {
    if (sets.empty()) {
        throw cni::config_error("invalid configuration: no IP ranges specified",
                                "set \"ipam.ranges\" or \"ipam.subnet\"");
    }
    for (std::size_t i = 0; i < sets.size(); ++i) {
        for (std::size_t j = i + 1; j < sets.size(); ++j) {
            if (sets[i].set.overlaps(sets[j].set)) {
                throw cni::config_error("invalid configuration: range sets \"" + sets[i].key +
                                        "\" (" + sets[i].set.to_string() + ") and \"" +
                                        sets[j].key + "\" (" + sets[j].set.to_string() +
                                        ") overlap");
            }
        }
    }
    auto count = [&](netlib::Family f) {
        return std::count_if(sets.begin(), sets.end(),
                             [f](const NamedSet& s) { return s.set.family() == f; });
    };
    if (version < cni::kV030 && (count(netlib::Family::V4) > 1 || count(netlib::Family::V6) > 1)) {
        throw cni::config_error("invalid configuration: CNI version " + version.to_string() +
                                " does not support more than 1 address per family");
    }
}

cni::Route parse_route(const json& obj, const std::string& path) {
    if (!obj.is_object()) {
        invalid(path, std::string{"must be an object, got "} + obj.type_name());
    }
    cni::Route r;
    r.dst = cidr_at(obj, "dst", path + ".dst");
    r.gw = ip_at(obj, "gw", path + ".gw");
    r.mtu = int_at(obj, "mtu", path + ".mtu");
    r.advmss = int_at(obj, "advmss", path + ".advmss");
    r.priority = int_at(obj, "priority", path + ".priority");
    r.table = int_at(obj, "table", path + ".table");
    r.scope = int_at(obj, "scope", path + ".scope");
    return r;
}

// "10.0.0.5" or "10.0.0.5/24" (the prefix is ignored, as by the reference's ip.IP).
std::optional<IpAddr> parse_requested(std::string_view text) {
    if (text.find('/') != std::string_view::npos) {
        auto net = IpNet::try_parse(text);
        return net ? std::optional<IpAddr>{canonical(net->addr())} : std::nullopt;
    }
    auto ip = IpAddr::try_parse(text);
    return ip ? std::optional<IpAddr>{canonical(*ip)} : std::nullopt;
}

void add_requested(std::vector<RequestedIp>& out, const IpAddr& ip, std::string source) {
    bool seen = std::any_of(out.begin(), out.end(), [&](const auto& r) { return r.ip == ip; });
    if (!seen) {
        out.push_back({ip, std::move(source)});
    }
}

void requested_from_list(const json* list, const std::string& path, std::vector<RequestedIp>& out) {
    if (list == nullptr) {
        return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
        std::string key = at(path, i);
        const json& v = (*list)[i];
        if (!v.is_string()) {
            invalid(key, std::string{"must be a string, got "} + v.type_name());
        }
        auto ip = parse_requested(v.get_ref<const std::string&>());
        if (!ip) {
            invalid(key, "is not an IP address: \"" + v.get<std::string>() + "\"");
        }
        add_requested(out, *ip, key);
    }
}

std::vector<RequestedIp> parse_requested_ips(const json& config, std::string_view cni_args) {
    std::vector<RequestedIp> out;
    if (!cni_args.empty()) {
        auto args = cni::CniArgs::parse(cni_args);
        args.check_known({"IP"});
        if (auto text = args.get("IP")) {
            std::string_view rest = *text;
            do {
                auto comma = rest.find(',');
                auto one = rest.substr(0, comma);
                rest =
                    comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
                auto ip = parse_requested(one);
                if (!ip) {
                    throw cni::Error(cni::Code::InvalidEnv, "invalid CNI_ARGS IP=\"" + *text + "\"",
                                     "expected IP addresses, optionally with /prefix, separated "
                                     "by commas");
                }
                add_requested(out, *ip, "CNI_ARGS IP");
            } while (!rest.empty());
        }
    }
    if (const json* args = object_at(config, "args", "args")) {
        if (const json* cni = object_at(*args, "cni", "args.cni")) {
            requested_from_list(array_at(*cni, "ips", "args.cni.ips"), "args.cni.ips", out);
        }
    }
    if (const json* rc = object_at(config, "runtimeConfig", "runtimeConfig")) {
        requested_from_list(array_at(*rc, "ips", "runtimeConfig.ips"), "runtimeConfig.ips", out);
    }
    return out;
}

const json& ipam_object(const json& config) {
    const json* ipam = object_at(config, "ipam", "ipam");
    if (ipam == nullptr) {
        throw cni::config_error("IPAM config missing 'ipam' key");
    }
    return *ipam;
}

cni::Version config_version(const json& config) {
    const std::string* v = string_at(config, "cniVersion", "cniVersion");
    return v == nullptr ? cni::Version{} : cni::Version::parse(*v);
}

}  // namespace

Location parse_location(const json& config) {
    Location loc;
    const std::string* name = string_at(config, "name", "name");
    if (name == nullptr || name->empty()) {
        throw cni::config_error("missing network name");
    }
    if (!cni::valid_id(*name)) {
        invalid("name", "\"" + *name + "\" must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
    }
    loc.network = *name;
    if (const std::string* dir = string_at(ipam_object(config), "dataDir", "ipam.dataDir")) {
        loc.data_dir = *dir;
    }
    return loc;
}

Config parse_config(const json& config, std::string_view cni_args) {
    Config c;
    c.location = parse_location(config);
    const json& ipam = ipam_object(config);

    std::vector<NamedSet> sets;
    if (const json* rc = object_at(config, "runtimeConfig", "runtimeConfig")) {
        parse_sets(array_at(*rc, "ipRanges", "runtimeConfig.ipRanges"), "runtimeConfig.ipRanges",
                   sets);
    }
    if (const std::string* subnet = string_at(ipam, "subnet", "ipam.subnet");
        subnet != nullptr && !subnet->empty()) {
        sets.push_back({RangeSet::make({parse_range(ipam, "ipam")}, "ipam"), "ipam"});
    }
    parse_sets(array_at(ipam, "ranges", "ipam.ranges"), "ipam.ranges", sets);
    check_sets(sets, config_version(config));
    for (auto& s : sets) {
        c.range_sets.push_back(std::move(s.set));
    }

    if (const json* routes = array_at(ipam, "routes", "ipam.routes")) {
        for (std::size_t i = 0; i < routes->size(); ++i) {
            c.routes.push_back(parse_route((*routes)[i], at("ipam.routes", i)));
        }
    }
    if (const std::string* rc = string_at(ipam, "resolvConf", "ipam.resolvConf")) {
        c.resolv_conf = *rc;
    }
    c.requested = parse_requested_ips(config, cni_args);
    return c;
}

cni::Dns parse_resolv_conf(std::string_view text) {
    cni::Dns dns;
    constexpr std::string_view kSpace = " \t\r\v\f";
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        std::vector<std::string> fields;
        while (true) {
            auto b = line.find_first_not_of(kSpace);
            if (b == std::string_view::npos) {
                break;
            }
            line.remove_prefix(b);
            auto e = line.find_first_of(kSpace);
            fields.emplace_back(line.substr(0, e));
            line = e == std::string_view::npos ? std::string_view{} : line.substr(e);
        }
        if (fields.size() < 2 || fields[0][0] == '#' || fields[0][0] == ';') {
            continue;
        }
        if (fields[0] == "nameserver") {
            dns.nameservers.push_back(fields[1]);
        } else if (fields[0] == "domain") {
            dns.domain = fields[1];
        } else if (fields[0] == "search") {
            dns.search.insert(dns.search.end(), fields.begin() + 1, fields.end());
        } else if (fields[0] == "options") {
            dns.options.insert(dns.options.end(), fields.begin() + 1, fields.end());
        }
    }
    return dns;
}

}  // namespace ipam
