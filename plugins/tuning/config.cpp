#include "plugins/tuning/config.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>

#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/tuning/sysctls.hpp"

namespace tuning {
namespace {

using cni::json_util::json;
namespace ju = cni::json_util;

constexpr std::int64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t kMaxMtu = std::numeric_limits<std::int32_t>::max();

netlib::MacAddr parse_mac(const std::string& text, const std::string& where) {
    try {
        return netlib::MacAddr::parse(text);
    } catch (const std::invalid_argument&) {
        throw cni::config_error("invalid MAC address in " + where + ": \"" + text + "\"");
    }
}

// Reads the {key: value} object at `obj[key]` into `out`, replacing values of keys already
// there (args.cni.sysctl over sysctl).
void read_sysctls(const json& obj, std::string_view key, const std::string& where,
                  std::vector<std::pair<std::string, std::string>>& out) {
    const json* map = ju::get_object(obj, key);
    if (map == nullptr) {
        return;
    }
    for (const auto& [k, v] : map->items()) {
        const std::string& name = k;  // clang 14 (clang-tidy) cannot capture a binding
        const std::string& value = ju::as_string(v, where + '.' + name);
        auto same = [&name](const auto& kv) { return kv.first == name; };
        if (auto it = std::find_if(out.begin(), out.end(), same); it != out.end()) {
            it->second = value;
        } else {
            out.emplace_back(k, value);
        }
    }
}

std::vector<Sysctl> parse_sysctls(const cni::Request& req, const json* cni_args) {
    reject_duplicate_keys(req.stdin_data);
    std::vector<std::pair<std::string, std::string>> kv;
    read_sysctls(req.config, "sysctl", "sysctl", kv);
    if (cni_args != nullptr) {
        read_sysctls(*cni_args, "sysctl", "args.cni.sysctl", kv);
    }
    std::vector<Sysctl> out;
    std::set<std::string> files;
    for (auto& [key, value] : kv) {
        auto path = sysctl_file(key, req.env.ifname);
        if (!files.insert(path).second) {
            // "net.ipv4.conf.eth0.rp_filter" and "net/ipv4/conf/IFNAME/rp_filter": one file.
            throw cni::config_error("sysctl \"" + key + "\" names /proc/sys/" + path +
                                    " a second time");
        }
        out.push_back({key, std::move(path), std::move(value)});
    }
    return out;
}

// `mac` < CNI_ARGS MAC < runtimeConfig.mac < args.cni.mac, as the reference.
std::optional<netlib::MacAddr> container_mac(const cni::Request& req, const json* cni_args) {
    std::optional<std::pair<std::string, std::string>> pick;  // (text, where)
    if (auto mac = ju::get_string(req.config, "mac"); mac && !mac->empty()) {
        pick.emplace(*mac, "\"mac\"");
    }
    auto args = cni::CniArgs::parse(req.env.args);
    args.check_known({"MAC", "IP", "K8S_POD_NAME", "K8S_POD_NAMESPACE",
                      "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID"});
    if (auto mac = args.get("MAC"); mac && !mac->empty()) {
        pick.emplace(*mac, "CNI_ARGS MAC");
    }
    if (auto mac = ju::get_string(req.conf.runtime_config, "mac"); mac && !mac->empty()) {
        pick.emplace(*mac, "runtimeConfig.mac");
    }
    if (cni_args != nullptr) {
        if (auto mac = ju::get_string(*cni_args, "mac"); mac && !mac->empty()) {
            pick.emplace(*mac, "args.cni.mac");
        }
    }
    if (!pick) {
        return std::nullopt;
    }
    return parse_mac(pick->first, pick->second);
}

// A key read from the config, overridden by args.cni when present there.
template <class Get>
auto overridable(const json& config, const json* cni_args, Get&& get) {
    auto value = get(config);
    if (cni_args != nullptr) {
        if (auto over = get(*cni_args)) {
            value = over;
        }
    }
    return value;
}

}  // namespace

Config Config::parse(const cni::Request& req) {
    const json& j = req.config;
    const json* cni_args = ju::get_object(req.conf.args, "cni");
    Config c;
    c.data_dir = parse_data_dir(req);
    c.sysctls = parse_sysctls(req, cni_args);
    check_allowlist(c.sysctls, kAllowlistFile);
    c.mac = container_mac(req, cni_args);
    c.promisc = overridable(j, cni_args, [](const json& o) {
                    return ju::get_bool(o, "promisc");
                }).value_or(false);
    auto mtu = overridable(j, cni_args,
                           [](const json& o) { return ju::get_int_in(o, "mtu", 0, kMaxMtu); });
    c.mtu = static_cast<unsigned>(mtu.value_or(0));
    c.allmulti =
        overridable(j, cni_args, [](const json& o) { return ju::get_bool(o, "allmulti"); });
    if (auto q = overridable(
            j, cni_args, [](const json& o) { return ju::get_int_in(o, "txQLen", 0, kMaxU32); })) {
        c.txqlen = static_cast<unsigned>(*q);
    }
    return c;
}

std::string Config::parse_data_dir(const cni::Request& req) {
    auto dir = ju::get_string(req.config, "dataDir");
    return dir && !dir->empty() ? *dir : kDefaultDataDir;
}

}  // namespace tuning
