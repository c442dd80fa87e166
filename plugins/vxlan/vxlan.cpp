#include "plugins/vxlan/vxlan.hpp"

#include "netlib/route_socket.hpp"
#include "plugins/bridge/bridge.hpp"
#include "plugins/bridge/config.hpp"
#include "plugins/bridge/steps.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/gc.hpp"
#include "plugins/vxlan/config.hpp"
#include "plugins/vxlan/overlay.hpp"

namespace vxlan {
namespace {

// The container side is the bridge plugin's, run on the network's bridge with the overlay's
// MTU; routed mode needs the gateway on the bridge (the node routes between bridge and overlay).
cni::Request bridge_request(const cni::Request& req, const Config& cfg,
                            std::optional<unsigned> mtu) {
    cni::Request r = req;
    r.config["bridge"] = cfg.bridge;
    if (mtu) {
        r.config["mtu"] = *mtu;
    }
    if (cfg.mode == Mode::Routed) {
        r.config["isGateway"] = true;
    }
    r.stdin_data = r.config.dump();
    return r;
}

}  // namespace

cni::Result add(const cni::Request& req) {
    Config cfg = Config::parse(req);
    auto host = netlib::RouteSocket::open();
    Underlay u = find_underlay(host, cfg);
    cni::Request breq = bridge_request(req, cfg, u.overlay_mtu);
    // The bridge, the device and its entries are the network's on this node, not this
    // container's: a failed ADD leaves them to the next ADD or to GC.
    netlib::LinkInfo br = bridge::ensure_bridge(host, bridge::Config::parse(breq));
    netlib::LinkInfo device = ensure_device(host, cfg, u, br.index);
    converge(host, cfg, u, device.index);
    cni::Result r = bridge::add(breq);
    r.interfaces.push_back({device.name, device.mac.to_string(), {}, {}, {}, {}});
    return r;
}

void del(const cni::Request& req) {
    Config cfg = Config::parse(req);
    bridge::del(bridge_request(req, cfg, std::nullopt));
}

void check(const cni::Request& req) {
    Config cfg = Config::parse(req);
    auto host = netlib::RouteSocket::open();
    Underlay u = find_underlay(host, cfg);
    check_overlay(host, cfg, u);
    bridge::check(bridge_request(req, cfg, u.overlay_mtu));
}

void gc(const cni::Request& req) {
    Config cfg = Config::parse(req);
    bridge::gc(bridge_request(req, cfg, std::nullopt));
    // The device, its routes and the bridge go once no attachment of the network is left on this
    // node. Not at the last DEL: a DEL cannot know that no ADD is joining the network meanwhile,
    // and the runtime calls GC with the full list of live attachments.
    auto valid = cni::ValidAttachments::parse(req.config);
    if (valid && valid->pairs().empty()) {
        auto host = netlib::RouteSocket::open();
        (void)remove_if_unused(host, cfg);
    }
}

void status(const cni::Request& req) {
    Config cfg = Config::parse(req);
    {
        auto host = netlib::RouteSocket::open();
        try {
            (void)find_underlay(host, cfg);
        } catch (const cni::Error& e) {
            throw cni::Error(cni::Code::NotAvailable, "the underlay is not ready", e.what());
        }
    }
    bridge::status(bridge_request(req, cfg, std::nullopt));
}

}  // namespace vxlan
