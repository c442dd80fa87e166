// sdnet status NET: CNI STATUS of each plugin (spec 1.1.0).
#include <iostream>

#include "runtime/sdnet/commands.hpp"

namespace sdnet {

int cmd_status(Invocation& inv) {
    ParseSpec spec;
    spec.description =
        "Ask each plugin of network NET whether it is ready for attachments (CNI STATUS),\n"
        "stopping at the first that is not. Networks before cniVersion 1.1.0 have no STATUS\n"
        "and are reported as not checked.";
    spec.positional = {"net"};
    spec.options.add_options()("json", po::bool_switch(), "print the status as JSON");
    auto vm = parse(inv, spec);
    if (!vm) {
        return 0;
    }
    auto list = inv.globals.load((*vm)["net"].as<std::string>());
    bool checked = inv.globals.runtime().status(list);
    if ((*vm)["json"].as<bool>()) {
        json j = {{"network", list.name},
                  {"cniVersion", list.cni_version},
                  {"checked", checked},
                  {"ready", true}};
        inv.out << j.dump(2) << "\n";
    } else if (checked) {
        inv.out << list.name << ": ready\n";
    } else {
        inv.out << list.name << ": not checked (cniVersion " << list.version().to_string()
                << " has no STATUS; needs 1.1.0)\n";
    }
    return 0;
}

}  // namespace sdnet
