// sdnet ls: the networks of the configuration directory and their plugin chains.
#include <filesystem>
#include <iostream>

#include "runtime/libcni/error.hpp"
#include "runtime/sdnet/commands.hpp"

namespace sdnet {
namespace {

std::string chain(const libcni::NetworkList& list) {
    std::string out;
    for (const auto& p : list.plugins) {
        out += (out.empty() ? "" : " -> ") + p.type;
    }
    return out;
}

json list_json(const libcni::ConfFile& f) {
    const auto& list = *f.list;
    json plugins = json::array();
    std::vector<std::string> caps;
    for (const auto& p : list.plugins) {
        plugins.push_back(p.type);
        auto c = p.capabilities();
        caps.insert(caps.end(), c.begin(), c.end());
    }
    return {{"name", list.name},    {"cniVersion", list.cni_version}, {"plugins", plugins},
            {"capabilities", caps}, {"file", f.file.string()},        {"shadowed", f.shadowed}};
}

}  // namespace

int cmd_ls(Invocation& inv) {
    ParseSpec spec;
    spec.description =
        "List the networks of the configuration directory in lookup order (*.conflist, then\n"
        "*.conf and *.json, each by file name) with their plugin chains. A network shadowed by\n"
        "an earlier file of the same name is marked. Broken files are reported at the end.";
    spec.options.add_options()("json", po::bool_switch(), "print the list as JSON");
    auto vm = parse(inv, spec);
    if (!vm) {
        return 0;
    }
    auto dir = inv.globals.resolved_conf_dir();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        throw libcni::Error("configuration directory " + dir.string() + " does not exist");
    }
    auto files = libcni::scan_networks(dir);
    std::string errors;
    json out = json::array();
    if (!(*vm)["json"].as<bool>()) {
        inv.out << pad("NAME", 20) << pad("VERSION", 9) << pad("PLUGINS", 36) << "FILE\n";
    }
    for (const auto& f : files) {
        if (!f.list) {
            errors += (errors.empty() ? "" : "; ") + f.error;
        } else if ((*vm)["json"].as<bool>()) {
            out.push_back(list_json(f));
        } else {
            inv.out << pad(f.list->name, 20) << pad(f.list->cni_version, 9)
                    << pad(chain(*f.list), 36) << f.file.string()
                    << (f.shadowed ? " (shadowed)" : "") << "\n";
        }
    }
    if ((*vm)["json"].as<bool>()) {
        inv.out << out.dump(2) << "\n";
    }
    if (!errors.empty()) {
        throw libcni::Error(errors);
    }
    return 0;
}

}  // namespace sdnet
