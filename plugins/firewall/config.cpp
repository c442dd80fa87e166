#include "plugins/firewall/config.hpp"

#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"

namespace firewall {
namespace {

using cni::json_util::get_string;

void check_backend(const cni::json_util::json& j) {
    auto backend = get_string(j, "backend");
    if (!backend || backend->empty() || *backend == "nftables" || *backend == "iptables") {
        return;
    }
    if (*backend == "firewalld") {
        throw cni::Error(cni::Code::UnsupportedField,
                         "\"backend\" \"firewalld\" is not supported: sdnet's firewall plugin "
                         "writes nftables rules only",
                         "leave \"backend\" out or set it to \"nftables\"");
    }
    throw cni::config_error("invalid \"backend\" \"" + *backend +
                            "\": must be \"nftables\", \"iptables\" or \"firewalld\"");
}

std::optional<netlib::IngressPolicy> parse_policy(const std::string& text) {
    if (text.empty() || text == "open") {
        return netlib::IngressPolicy::Open;
    }
    if (text == "same-bridge") {
        return netlib::IngressPolicy::SameBridge;
    }
    if (text == "isolated") {
        return netlib::IngressPolicy::Isolated;
    }
    return std::nullopt;
}

}  // namespace

Config Config::parse(const cni::Request& req, bool lenient) {
    if (lenient) {
        try {
            return parse(req, false);
        } catch (const cni::Error&) {
            return Config{};
        }
    }
    const auto& j = req.config;
    // Type checks even for keys sdnet ignores: a number where a name belongs is a broken config.
    (void)get_string(j, "iptablesAdminChainName");
    (void)get_string(j, "firewalldZone");
    check_backend(j);
    auto text = get_string(j, "ingressPolicy").value_or("");
    auto policy = parse_policy(text);
    if (!policy) {
        throw cni::config_error("invalid \"ingressPolicy\" \"" + text +
                                "\": must be \"open\", \"same-bridge\" or \"isolated\"");
    }
    return Config{*policy};
}

}  // namespace firewall
