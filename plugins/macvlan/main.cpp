// The macvlan plugin (the reference's plugins/main/macvlan): `mode` bridge (default), private,
// vepa, passthru or source, and the container MAC from `mac`, CNI_ARGS MAC= or
// runtimeConfig.mac; the rest is the shared child-link plugin.
#include <optional>
#include <string>

#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/common/child_link_plugin.hpp"
#include "plugins/common/link_config.hpp"

namespace {

std::string mode_of(const cni::Request& req) {
    auto mode = cni::json_util::get_string(req.config, "mode").value_or("");
    if (mode.empty()) {
        return "bridge";
    }
    if (mode != "bridge" && mode != "private" && mode != "vepa" && mode != "passthru" &&
        mode != "source") {
        throw cni::config_error("invalid \"mode\" \"" + mode +
                                "\": must be bridge, private, vepa, passthru or source");
    }
    return mode;
}

netlib::LinkInfo create(netlib::RouteSocket& parent, const plugin::ChildLinkRequest& r) {
    netlib::MacvlanSpec spec{r.name,  r.master, mode_of(r.req), r.mtu, plugin::requested_mac(r.req),
                             r.netns, r.up,     &r.ctr};
    return netlib::create_macvlan(parent, spec);
}

std::optional<std::string> check(const cni::Request& req, const netlib::LinkInfo& link) {
    if (std::string want = mode_of(req); link.mode != want) {
        return "has mode " + link.mode + ", the configuration says " + want;
    }
    return std::nullopt;
}

void validate(const cni::Request& req) {
    (void)mode_of(req);
    if (req.env.command == cni::Command::Add) {
        (void)plugin::requested_mac(req);
    }
}

}  // namespace

int main(int argc, char** argv) {
    return cni::main(
        plugin::child_link_plugin({"macvlan", "macvlan", validate, create, check, false}), argc,
        argv, SDNET_VERSION);
}
