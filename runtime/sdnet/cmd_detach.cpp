// sdnet detach NET NETNS: CNI DEL of a network's plugin chain, in reverse order.
#include <iostream>

#include "runtime/libcni/error.hpp"
#include "runtime/sdnet/commands.hpp"

namespace sdnet {
namespace {

// The runtime configuration of `t` with the CNI_ARGS and capability args its ADD had, from the
// cache entry (none without one), not whatever this command line says, as podman does.
libcni::RuntimeConf runtime_conf_as_added(const Target& t,
                                          const std::optional<libcni::CacheEntry>& cached) {
    libcni::RuntimeConf rc{t.container_id, t.netns, t.ifname, {}, json::object()};
    if (cached) {
        rc.args = cached->cni_args;
        rc.capability_args = cached->capability_args;
    }
    return rc;
}

}  // namespace

int cmd_detach(Invocation& inv) {
    ParseSpec spec;
    spec.description =
        "Detach network namespace NETNS from network NET: run CNI DEL for each plugin of\n"
        "NET's chain in reverse order, with the cached ADD result as prevResult and the cached\n"
        "CNI_ARGS and capability args (so port mappings are removed too), then drop the cache\n"
        "entry. Works when the netns is already gone and when nothing was cached; if NET's\n"
        "configuration file was removed, the configuration saved in the cache is used.";
    add_target_options(spec);
    auto vm = parse(inv, spec);
    if (!vm) {
        return 0;
    }
    Target t = target_from(*vm);
    auto rt = inv.globals.runtime();
    auto cached = cached_entry(rt, t);
    libcni::NetworkList list;
    try {
        list = inv.globals.load(t.network);
    } catch (const libcni::NotFoundError&) {
        if (!cached) {
            throw;
        }
        list = libcni::parse_network_list(
            cached->config, "cached config in " +
                                rt.cache().path_for(t.network, t.container_id, t.ifname).string());
    }
    rt.del(list, runtime_conf_as_added(t, cached));
    inv.out << "detached " << t.network << " from " << t.netns
            << (cached ? "" : " (there was no cache entry)") << "\n";
    return 0;
}

int cmd_check(Invocation& inv) {
    ParseSpec spec;
    spec.description =
        "Check that the attachment of NETNS to NET is still as ADD left it: run CNI CHECK for\n"
        "each plugin in order with the cached result as prevResult. Needs cniVersion 0.4.0 or\n"
        "later; a network with disableCheck is reported as skipped.";
    add_target_options(spec);
    auto vm = parse(inv, spec);
    if (!vm) {
        return 0;
    }
    Target t = target_from(*vm);
    auto rt = inv.globals.runtime();
    auto list = inv.globals.load(t.network);
    auto file = rt.cache().path_for(t.network, t.container_id, t.ifname);
    if (!std::filesystem::exists(file)) {
        throw libcni::Error("not attached: no cache entry " + file.string());
    }
    if (!rt.check(list, runtime_conf_as_added(t, cached_entry(rt, t)))) {
        inv.out << "skipped: network " << t.network << " sets disableCheck\n";
        return 0;
    }
    inv.out << "ok: " << t.network << " in " << t.netns << " (" << t.container_id << ", "
            << t.ifname << ")\n";
    return 0;
}

}  // namespace sdnet
