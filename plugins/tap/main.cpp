// The tap plugin (the reference's plugins/main/tap): a persistent tap device as the container's
// interface, for a VM or user-space stack in the container. Keys: `mac` (and CNI_ARGS MAC=,
// runtimeConfig.mac), `mtu`, `multiQueue`, `owner`/`group` (who may open it), `bridge` (a
// bridge in the container's netns to enslave it to), `selinuxcontext` (accepted; see below),
// `ipam`. The rest is the shared child-link plugin.
#include <optional>
#include <string>

#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"
#include "plugins/common/child_link_plugin.hpp"
#include "plugins/common/link_config.hpp"

namespace {

namespace ju = cni::json_util;

constexpr std::int64_t kMaxId = 0xFFFFFFFE;  // (uid_t)-1 means "unset" to the kernel

netlib::TapSpec tap_spec(const cni::Request& req, const std::string& name) {
    netlib::TapSpec spec{name, ju::get_bool(req.config, "multiQueue").value_or(false), {}, {}};
    if (auto owner = ju::get_int_in(req.config, "owner", 0, kMaxId)) {
        spec.owner = static_cast<unsigned>(*owner);
    }
    if (auto group = ju::get_int_in(req.config, "group", 0, kMaxId)) {
        spec.group = static_cast<unsigned>(*group);
    }
    return spec;
}

std::optional<std::string> bridge_of(const cni::Request& req) {
    auto bridge = ju::get_string(req.config, "bridge").value_or("");
    if (bridge.empty()) {
        return std::nullopt;
    }
    if (auto problem = cni::ifname_problem(bridge)) {
        throw cni::config_error("invalid \"bridge\" \"" + bridge + "\": " + *problem);
    }
    return bridge;
}

// `selinuxcontext` is accepted for configurations written for the reference, which labels the
// tap's creation with it; sdnet does not label (no SELinux on its targets), so it is ignored.
void validate(const cni::Request& req) {
    (void)tap_spec(req, {});
    (void)bridge_of(req);
    (void)ju::get_string(req.config, "selinuxcontext");
    if (req.env.command == cni::Command::Add) {
        (void)plugin::requested_mac(req);
    }
}

netlib::LinkInfo enslave(netlib::RouteSocket& ctr, const std::string& bridge_name, int index) {
    auto bridge = netlib::find_link(ctr, bridge_name);
    if (!bridge || bridge->kind != "bridge") {
        throw cni::config_error("\"bridge\" \"" + bridge_name +
                                "\" is not a bridge in the container's netns");
    }
    netlib::set_master(ctr, index, bridge->index);
    return *bridge;
}

netlib::LinkInfo create(netlib::RouteSocket& /*parent*/, const plugin::ChildLinkRequest& r) {
    if (r.netns == nullptr) {
        throw cni::config_error("\"linkInContainer\" does not apply to tap: it has no master");
    }
    netlib::LinkInfo tap = netlib::create_tap(*r.netns, tap_spec(r.req, r.name));
    auto& ctr = r.ctr;
    try {
        if (r.mtu) {
            netlib::set_mtu(ctr, tap.index, *r.mtu);
        }
        if (auto mac = plugin::requested_mac(r.req)) {
            netlib::set_mac(ctr, tap.index, *mac);
        }
        if (auto bridge = bridge_of(r.req)) {
            enslave(ctr, *bridge, tap.index);
        }
        if (r.up) {
            netlib::set_up(ctr, tap.index, true);
        }
    } catch (...) {
        (void)netlib::remove_link(ctr, tap.index);
        throw;
    }
    auto fresh = netlib::find_link(ctr, tap.index);  // with its MTU, MAC and master
    return fresh ? *fresh : tap;
}

std::string id_text(std::optional<unsigned> id) {
    return id ? std::to_string(*id) : "unset";
}

std::optional<std::string> check(const cni::Request& req, const netlib::LinkInfo& link) {
    if (auto bridge = bridge_of(req); bridge && link.master == 0) {
        return "is not enslaved to bridge \"" + *bridge + "\"";
    }
    auto want = tap_spec(req, link.name);
    if (link.tun_owner != want.owner) {
        return "has owner " + id_text(link.tun_owner) + ", the configuration says " +
               id_text(want.owner);
    }
    if (link.tun_group != want.group) {
        return "has group " + id_text(link.tun_group) + ", the configuration says " +
               id_text(want.group);
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    return cni::main(
        plugin::child_link_plugin({"tap", "tun", validate, create, check, false, false}), argc,
        argv, SDNET_VERSION);
}
