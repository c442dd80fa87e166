// The vlan plugin (the reference's plugins/main/vlan): an 802.1Q link of `master` with
// `vlanId` (1..4094) as the container's interface. The rest is the shared child-link plugin.
#include <cerrno>
#include <optional>
#include <string>

#include "netlib/error.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/common/child_link_plugin.hpp"

namespace {

unsigned vlan_id(const cni::Request& req) {
    auto id = cni::json_util::get_int_in(req.config, "vlanId", 1, 4094);
    if (!id) {
        throw cni::config_error("\"vlanId\" is missing: the VLAN id, 1..4094");
    }
    return static_cast<unsigned>(*id);
}

// The kernel allows one link per VLAN id on a master, in whatever netns it is: EEXIST here is
// another attachment (or the host) using the id.
netlib::LinkInfo create(netlib::RouteSocket& parent, const plugin::ChildLinkRequest& r) {
    netlib::VlanSpec spec{r.name, r.master, vlan_id(r.req), r.mtu, r.netns, r.up, &r.ctr};
    try {
        return netlib::create_vlan(parent, spec);
    } catch (const netlib::Error& e) {
        if (e.code() != EEXIST) {
            throw;
        }
        throw cni::config_error(
            "\"vlanId\" " + std::to_string(spec.id) + " is already used on \"master\"", e.what());
    }
}

std::optional<std::string> check(const cni::Request& req, const netlib::LinkInfo& link) {
    if (unsigned want = vlan_id(req); link.vlan_id != want) {
        return "has VLAN id " + std::to_string(link.vlan_id) + ", the configuration says " +
               std::to_string(want);
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    return cni::main(plugin::child_link_plugin({"vlan", "vlan",
                                                [](const cni::Request& req) { (void)vlan_id(req); },
                                                create, check, false}),
                     argc, argv, SDNET_VERSION);
}
