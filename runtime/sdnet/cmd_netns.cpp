// sdnet netns add|del|ls: persistent named network namespaces under /run/netns, as `ip netns`.
#include <cerrno>
#include <iostream>
#include <map>

#include "netlib/error.hpp"
#include "netlib/netns.hpp"
#include "runtime/libcni/error.hpp"
#include "runtime/sdnet/commands.hpp"

namespace sdnet {
namespace {

void check_name(const std::string& name) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
        throw UsageError("invalid namespace name \"" + name + "\" (no '/', not . or ..)");
    }
}

int add(Invocation& inv, const std::string& name) {
    try {
        inv.out << netlib::create_named_netns(name) << "\n";
    } catch (const netlib::Error& e) {
        if (e.code() == EEXIST) {
            throw libcni::Error("network namespace \"" + name + "\" already exists");
        }
        throw;
    }
    return 0;
}

int del(Invocation& inv, const std::string& name) {
    if (!netlib::remove_named_netns(name)) {
        throw libcni::Error("no network namespace named \"" + name + "\" in " +
                            netlib::kNetnsRunDir);
    }
    inv.out << "deleted " << netlib::kNetnsRunDir << "/" << name << "\n";
    return 0;
}

// Each named namespace with the attachments the cache records for it.
int ls(Invocation& inv, bool as_json) {
    std::map<std::string, std::vector<std::string>> attached;
    for (const auto& e : libcni::ResultCache(inv.globals.resolved_cache_dir()).list()) {
        attached[e.netns].push_back(e.network + ":" + e.ifname);
    }
    json out = json::array();
    for (const auto& name : netlib::list_named_netns()) {
        std::string path = std::string{netlib::kNetnsRunDir} + "/" + name;
        const auto& nets = attached[path];
        if (as_json) {
            out.push_back({{"name", name}, {"path", path}, {"attachments", nets}});
            continue;
        }
        inv.out << (nets.empty() ? name : pad(name, 24));
        for (std::size_t i = 0; i < nets.size(); ++i) {
            inv.out << (i == 0 ? "" : ", ") << nets[i];
        }
        inv.out << "\n";
    }
    if (as_json) {
        inv.out << out.dump(2) << "\n";
    }
    return 0;
}

}  // namespace

int cmd_netns(Invocation& inv) {
    ParseSpec spec;
    spec.description =
        "Manage persistent named network namespaces under /run/netns (bind mounts, as\n"
        "`ip netns` makes them), for use as NETNS in attach:\n"
        "  sdnet netns add NAME    create /run/netns/NAME and print its path\n"
        "  sdnet netns del NAME    unmount and remove it\n"
        "  sdnet netns ls          list them with their cached attachments (NETWORK:IFNAME)";
    spec.positional = {"action", "name"};
    spec.optional_positional = 1;
    spec.options.add_options()("json", po::bool_switch(), "ls: print JSON");
    auto vm = parse(inv, spec);
    if (!vm) {
        return 0;
    }
    auto action = (*vm)["action"].as<std::string>();
    bool has_name = vm->count("name") != 0;
    if (action == "ls") {
        if (has_name) {
            throw UsageError("netns ls takes no NAME");
        }
        return ls(inv, (*vm)["json"].as<bool>());
    }
    if (action != "add" && action != "del") {
        throw UsageError("unknown action \"" + action + "\" (add, del or ls)");
    }
    if (!has_name) {
        throw UsageError("missing NAME");
    }
    auto name = (*vm)["name"].as<std::string>();
    check_name(name);
    return action == "add" ? add(inv, name) : del(inv, name);
}

}  // namespace sdnet
