// conditionsV4/V6: the subset of nft match syntax sdnet translates into rule expressions
// itself (it never runs nft):
//
//   ip saddr|daddr [==|!=] <address>[/<prefix>]      (conditionsV4)
//   ip6 saddr|daddr [==|!=] <address>[/<prefix>]     (conditionsV6)
//   [meta] iifname [==|!=] <name>                    (both)
//
// Several matches in a row must all hold. The list's strings are joined with spaces first, so
// ["ip saddr 10.0.0.0/8"] and ["ip", "saddr", "10.0.0.0/8"] mean the same, as in the reference.

#include <sstream>

#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/portmap/config.hpp"

namespace portmap {
namespace {

constexpr const char* kSupported =
    "supported: \"ip saddr|daddr [!=] <address>[/<prefix>]\" (conditionsV4), \"ip6 saddr|daddr "
    "[!=] <address>[/<prefix>]\" (conditionsV6), \"iifname [!=] <name>\"";

class Tokens {
public:
    Tokens(std::vector<std::string> t, std::string_view key) : t_(std::move(t)), key_(key) {}

    bool done() const { return i_ == t_.size(); }

    const std::string& peek() const { return t_[i_]; }

    std::string next(std::string_view what) {
        if (done()) {
            fail("ends where " + std::string(what) + " was expected");
        }
        return t_[i_++];
    }

    // "!=" -> true, "==" -> false, anything else is left alone (false).
    bool negation() {
        if (!done() && (peek() == "!=" || peek() == "==")) {
            return next("") == "!=";
        }
        return false;
    }

    [[noreturn]] void fail(const std::string& why) const {
        throw cni::config_error("unsupported nftables condition in \"" + std::string(key_) +
                                    "\": \"" + joined() + "\" " + why,
                                kSupported);
    }

private:
    std::string joined() const {
        std::string out;
        for (const auto& t : t_) {
            out += (out.empty() ? "" : " ") + t;
        }
        return out;
    }

    std::vector<std::string> t_;
    std::string_view key_;
    std::size_t i_ = 0;
};

std::vector<std::string> split(const nlohmann::json& list, std::string_view key) {
    std::vector<std::string> out;
    for (const auto& item : list) {
        std::istringstream words(
            cni::json_util::as_string(item, "an element of \"" + std::string(key) + "\""));
        for (std::string w; words >> w;) {
            out.push_back(std::move(w));
        }
    }
    return out;
}

netlib::PortmapMatch address_match(Tokens& t, netlib::Family family) {
    auto proto = t.next("ip or ip6");
    bool v4 = proto == "ip";
    if ((v4 && family != netlib::Family::V4) || (proto == "ip6" && family != netlib::Family::V6)) {
        t.fail("matches the other address family");
    }
    netlib::PortmapMatch m;
    auto field = t.next("saddr or daddr");
    if (field != "saddr" && field != "daddr") {
        t.fail("has \"" + field + "\" where saddr or daddr was expected");
    }
    m.kind =
        field == "saddr" ? netlib::PortmapMatch::Kind::Saddr : netlib::PortmapMatch::Kind::Daddr;
    m.negate = t.negation();
    auto text = t.next("an address");
    try {
        m.net = text.find('/') == std::string::npos
                    ? netlib::IpNet::host(netlib::IpAddr::parse(text))
                    : netlib::IpNet::parse(text);
    } catch (const std::invalid_argument&) {
        t.fail("has \"" + text + "\" where an address or CIDR was expected");
    }
    if (m.net.family() != family) {
        t.fail("has address " + text + " of the other family");
    }
    m.net = m.net.network();
    return m;
}

netlib::PortmapMatch ifname_match(Tokens& t) {
    netlib::PortmapMatch m;
    m.kind = netlib::PortmapMatch::Kind::Iifname;
    m.negate = t.negation();
    auto name = t.next("an interface name");
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
        name = name.substr(1, name.size() - 2);
    }
    if (auto problem = cni::ifname_problem(name); problem || name.find('*') != std::string::npos) {
        t.fail("has an invalid interface name \"" + name + "\"");
    }
    m.ifname = name;
    return m;
}

}  // namespace

std::vector<netlib::PortmapMatch> parse_conditions(const nlohmann::json& list, std::string_view key,
                                                   netlib::Family family) {
    Tokens t(split(list, key), key);
    if (!t.done() && (t.peek().starts_with('-') || t.peek().starts_with('!'))) {
        throw cni::config_error(
            "\"" + std::string(key) + "\" uses iptables syntax: sdnet's portmap is nftables-only",
            "write the conditions in nft syntax, e.g. \"ip saddr 10.0.0.0/8\"");
    }
    std::vector<netlib::PortmapMatch> out;
    while (!t.done()) {
        if (t.peek() == "ip" || t.peek() == "ip6") {
            out.push_back(address_match(t, family));
        } else if (t.peek() == "iifname" || t.peek() == "meta") {
            if (t.next("iifname") == "meta" && t.next("iifname") != "iifname") {
                t.fail("uses a meta key other than iifname");
            }
            out.push_back(ifname_match(t));
        } else {
            t.fail("has \"" + t.peek() + "\" where ip, ip6 or iifname was expected");
        }
    }
    return out;
}

}  // namespace portmap
