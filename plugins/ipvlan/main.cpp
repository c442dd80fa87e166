// The ipvlan plugin (the reference's plugins/main/ipvlan): `mode` l2 (default), l3 or l3s,
// `flag` bridge (default), private or vepa; with `ipam`, or chained after another plugin,
// putting prevResult's addresses on the ipvlan (and, without `master`, on top of prevResult's
// single interface). The rest is the shared child-link plugin.
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

std::string flag_of(const cni::Request& req) {
    auto flag = cni::json_util::get_string(req.config, "flag").value_or("");
    if (flag.empty()) {
        return "bridge";
    }
    if (flag != "bridge" && flag != "private" && flag != "vepa") {
        throw cni::config_error("invalid \"flag\" \"" + flag +
                                "\": must be bridge, private or vepa");
    }
    return flag;
}

void validate(const cni::Request& req) {
    (void)mode_of(req);
    (void)flag_of(req);
}

netlib::LinkInfo create(netlib::RouteSocket& parent, const plugin::ChildLinkRequest& r) {
    netlib::IpvlanSpec spec{r.name, r.master, mode_of(r.req), flag_of(r.req),
                            r.mtu,  r.netns,  r.up,           &r.ctr};
    return netlib::create_ipvlan(parent, spec);
}

std::optional<std::string> check(const cni::Request& req, const netlib::LinkInfo& link) {
    if (std::string want = mode_of(req); link.mode != want) {
        return "has mode " + link.mode + ", the configuration says " + want;
    }
    if (std::string want = flag_of(req); link.ipvlan_flag != want) {
        return "has flag " + link.ipvlan_flag + ", the configuration says " + want;
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    return cni::main(plugin::child_link_plugin({"ipvlan", "ipvlan", validate, create, check, true}),
                     argc, argv, SDNET_VERSION);
}
