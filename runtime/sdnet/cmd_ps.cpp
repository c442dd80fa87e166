// sdnet ps: attachments recorded in the result cache (ours, podman's, containerd's).
#include <iostream>

#include "runtime/libcni/attachment_id.hpp"
#include "runtime/sdnet/commands.hpp"

namespace sdnet {
namespace {

std::string comma_joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        out += (out.empty() ? "" : ",") + i;
    }
    return out.empty() ? "-" : out;
}

}  // namespace

int cmd_ps(Invocation& inv) {
    ParseSpec spec;
    spec.description =
        "List the attachments in the result cache (<cache-dir>/results): network, container\n"
        "id, network namespace, interface and addresses. A netns that no longer exists is\n"
        "marked (gone); 'sdnet gc NET' releases those.";
    spec.options.add_options()("net", po::value<std::string>(), "only attachments of this network")(
        "json", po::bool_switch(), "print the attachments as JSON");
    auto vm = parse(inv, spec);
    if (!vm) {
        return 0;
    }
    auto rt = inv.globals.runtime();
    bool as_json = (*vm)["json"].as<bool>();
    json out = json::array();
    if (!as_json) {
        inv.out << pad("NETWORK", 16) << pad("CONTAINER", 30) << pad("NETNS", 28)
                << pad("IFNAME", 8) << "ADDRESSES\n";
    }
    for (const auto& e : rt.cache().list()) {
        if (vm->count("net") != 0 && e.network != (*vm)["net"].as<std::string>()) {
            continue;
        }
        bool alive = libcni::netns_alive(e.netns);
        auto addresses = result_addresses(e.result);
        if (as_json) {
            out.push_back({{"network", e.network},
                           {"containerId", e.container_id},
                           {"netns", e.netns},
                           {"netnsExists", alive},
                           {"ifName", e.ifname},
                           {"ips", addresses},
                           {"result", e.result}});
        } else {
            inv.out << pad(e.network, 16) << pad(e.container_id, 30)
                    << pad(e.netns + (alive ? "" : " (gone)"), 28) << pad(e.ifname, 8)
                    << comma_joined(addresses) << "\n";
        }
    }
    if (as_json) {
        inv.out << out.dump(2) << "\n";
    }
    return 0;
}

}  // namespace sdnet
