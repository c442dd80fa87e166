// The ipvlan plugin (the reference's plugins/main/ipvlan): `mode` l2 (default), l3 or l3s; with
// `ipam`, or chained after another plugin, putting prevResult's addresses on the ipvlan (and,
// without `master`, on top of prevResult's single interface). The rest is the shared child-link
// plugin.
#include <optional>
#include <string>

#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/common/child_link_plugin.hpp"

namespace {

std::string mode_of(const cni::Request& req) {
    auto mode = cni::json_util::get_string(req.config, "mode").value_or("");
    if (mode.empty()) {
        return "l2";
    }
    if (mode != "l2" && mode != "l3" && mode != "l3s") {
        throw cni::config_error("invalid \"mode\" \"" + mode + "\": must be l2, l3 or l3s");
    }
    return mode;
}

// `flag`: only the kernel's default, bridge. libnl has no setter for IFLA_IPVLAN_FLAGS, so
// private and vepa are refused by name rather than silently ignored.
void check_flag(const cni::Request& req) {
    auto flag = cni::json_util::get_string(req.config, "flag").value_or("");
    if (flag.empty() || flag == "bridge") {
        return;
    }
    if (flag == "private" || flag == "vepa") {
        throw cni::Error(cni::Code::UnsupportedField,
                         "\"flag\" \"" + flag + "\" is not supported yet: only bridge");
    }
    throw cni::config_error("invalid \"flag\" \"" + flag + "\": must be bridge, private or vepa");
}

void validate(const cni::Request& req) {
    (void)mode_of(req);
    check_flag(req);
}

netlib::LinkInfo create(netlib::RouteSocket& parent, const plugin::ChildLinkRequest& r) {
    netlib::IpvlanSpec spec{r.name, r.master, mode_of(r.req), r.mtu, r.netns, false};
    return netlib::create_ipvlan(parent, spec);
}

std::optional<std::string> check(const cni::Request& req, const netlib::LinkInfo& link) {
    if (std::string want = mode_of(req); link.mode != want) {
        return "has mode " + link.mode + ", the configuration says " + want;
    }
    return std::nullopt;
}

}  // namespace

int main() {
    return cni::main(
        plugin::child_link_plugin({"ipvlan", "ipvlan", validate, create, check, true}));
}
