#include "plugins/common/link_config.hpp"

#include <stdexcept>

#include "netlib/route.hpp"
#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"

namespace plugin {
namespace {

namespace ju = cni::json_util;

std::optional<std::string> default_route_interface(netlib::RouteSocket& sock) {
    for (auto f : {netlib::Family::V4, netlib::Family::V6}) {
        for (const auto& r : netlib::list_routes(sock, f)) {
            if (r.dst.prefix() == 0 && r.ifindex > 0) {
                if (auto link = netlib::find_link(sock, r.ifindex)) {
                    return link->name;
                }
            }
        }
    }
    return std::nullopt;
}

}  // namespace

netlib::MacAddr parse_mac(const std::string& text, const std::string& where) {
    try {
        return netlib::MacAddr::parse(text);
    } catch (const std::invalid_argument&) {
        throw cni::config_error("invalid MAC address in " + where + ": \"" + text + "\"");
    }
}

std::optional<netlib::MacAddr> requested_mac(const cni::Request& req) {
    if (auto mac = ju::get_string(req.conf.runtime_config, "mac")) {
        return parse_mac(*mac, "runtimeConfig.mac");
    }
    auto args = cni::CniArgs::parse(req.env.args);
    args.check_known({"MAC", "IP", "GATEWAY", "K8S_POD_NAME", "K8S_POD_NAMESPACE",
                      "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID"});
    if (auto mac = args.get("MAC")) {
        return parse_mac(*mac, "CNI_ARGS MAC");
    }
    if (auto mac = ju::get_string(req.config, "mac"); mac && !mac->empty()) {
        return parse_mac(*mac, "\"mac\"");
    }
    return std::nullopt;
}

std::optional<unsigned> parse_mtu(const cni::Request& req) {
    auto mtu = ju::get_int_in(req.config, "mtu", 0, 65535);
    if (!mtu || *mtu == 0) {
        return std::nullopt;
    }
    if (*mtu < 68) {
        throw cni::config_error("invalid \"mtu\" " + std::to_string(*mtu) +
                                ": must be at least 68");
    }
    return static_cast<unsigned>(*mtu);
}

std::string master_name(const cni::Request& req, netlib::RouteSocket& sock) {
    if (auto name = ju::get_string(req.config, "master"); name && !name->empty()) {
        if (auto problem = cni::ifname_problem(*name)) {
            throw cni::config_error("invalid \"master\" \"" + *name + "\": " + *problem);
        }
        return *name;
    }
    if (auto name = default_route_interface(sock)) {
        return *name;
    }
    throw cni::config_error("\"master\" is not set and there is no default route to take it from",
                            "name the host interface in \"master\"");
}

netlib::LinkInfo find_master(netlib::RouteSocket& sock, const std::string& name,
                             std::optional<unsigned> mtu) {
    auto master = netlib::find_link(sock, name);
    if (!master) {
        throw cni::config_error("\"master\" interface \"" + name + "\" does not exist");
    }
    if (mtu && *mtu > master->mtu) {
        throw cni::config_error("invalid \"mtu\" " + std::to_string(*mtu) + ": must be at most " +
                                "the MTU of \"master\" " + name + " (" +
                                std::to_string(master->mtu) + ")");
    }
    return *master;
}

}  // namespace plugin
