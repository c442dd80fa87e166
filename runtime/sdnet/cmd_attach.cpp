// sdnet attach NET NETNS: CNI ADD of a network's plugin chain for one network namespace.
#include <filesystem>
#include <iostream>
#include <map>

#include "plugins/cni/types.hpp"
#include "runtime/libcni/attachment_id.hpp"
#include "runtime/libcni/capability_args.hpp"
#include "runtime/libcni/error.hpp"
#include "runtime/sdnet/commands.hpp"

namespace sdnet {
namespace {

using Strings = std::vector<std::string>;

void add_attach_options(ParseSpec& spec) {
    constexpr const char* kBurst = "burst in bits (default rate/8, at least 512Ki)";
    auto add = spec.options.add_options();
    add("publish,p", po::value<Strings>()->composing(),
        "publish a port, [HOSTIP:]HOSTPORT[-END]:CONTAINERPORT[-END][/tcp|udp|sctp] "
        "(capability portMappings; repeatable)");
    add("ip", po::value<Strings>()->composing(),
        "request an address, ADDR or ADDR/PREFIX (capability ips; repeatable)");
    add("mac", po::value<std::string>(), "MAC of the container interface (capability mac)");
    add("ip-range", po::value<Strings>()->composing(),
        "allocate from SUBNET[,START-END][,gw=GATEWAY] (capability ipRanges; repeatable)");
    add("ingress-rate", po::value<std::string>(),
        "limit traffic into the container, bits/s: 1000000, 500k, 10M, 10mbit (capability "
        "bandwidth)");
    add("ingress-burst", po::value<std::string>(), kBurst);
    add("egress-rate", po::value<std::string>(), "limit traffic out of the container, bits/s");
    add("egress-burst", po::value<std::string>(), kBurst);
    add("capability", po::value<Strings>()->composing(),
        "any other capability arg, NAME=JSON (repeatable)");
    add("cni-args", po::value<std::string>(), "CNI_ARGS for the plugins, K=V;K2=V2");
    add("json", po::bool_switch(), "print the CNI result as JSON");
}

json list_of(const po::variables_map& vm, const char* option,
             const std::function<json(const std::string&)>& convert, bool flatten = false) {
    json out = json::array();
    if (vm.count(option) != 0) {
        for (const auto& text : vm[option].as<Strings>()) {
            json v = convert(text);
            if (flatten) {
                out.insert(out.end(), v.begin(), v.end());
            } else {
                out.push_back(std::move(v));
            }
        }
    }
    return out;
}

std::optional<std::uint64_t> rate_option(const po::variables_map& vm, const char* option) {
    if (vm.count(option) == 0) {
        return std::nullopt;
    }
    return libcni::parse_rate(vm[option].as<std::string>());
}

void generic_capability(const std::string& text, json& caps) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw libcni::ArgumentError("invalid --capability \"" + text + "\" (expected NAME=JSON)");
    }
    json value = json::parse(text.substr(eq + 1), nullptr, false);
    if (value.is_discarded()) {
        throw libcni::ArgumentError("invalid --capability \"" + text + "\": the value is not JSON");
    }
    caps[text.substr(0, eq)] = value;
}

// The capability args the options ask for (CONVENTIONS.md shapes).
json capability_args(const po::variables_map& vm) {
    json caps = json::object();
    if (vm.count("capability") != 0) {
        for (const auto& text : vm["capability"].as<Strings>()) {
            generic_capability(text, caps);
        }
    }
    auto ports = list_of(vm, "publish", libcni::parse_port_mappings, true);
    if (!ports.empty()) {
        caps["portMappings"] = ports;
    }
    auto ips = list_of(vm, "ip", [](const std::string& t) { return libcni::parse_ip_arg(t); });
    if (!ips.empty()) {
        caps["ips"] = ips;
    }
    auto ranges = list_of(vm, "ip-range", libcni::parse_ip_range_arg);
    if (!ranges.empty()) {
        caps["ipRanges"] = ranges;
    }
    if (vm.count("mac") != 0) {
        caps["mac"] = libcni::parse_mac_arg(vm["mac"].as<std::string>());
    }
    auto bandwidth = libcni::bandwidth_capability(
        {rate_option(vm, "ingress-rate"), rate_option(vm, "ingress-burst"),
         rate_option(vm, "egress-rate"), rate_option(vm, "egress-burst")});
    if (!bandwidth.is_null()) {
        caps["bandwidth"] = bandwidth;
    }
    return caps;
}

// An argument no plugin of the chain takes would be silently ignored: say so instead.
void require_capabilities(const libcni::NetworkList& list, const json& caps) {
    static const std::map<std::string, std::string> kOption = {
        {"portMappings", "-p"},
        {"ips", "--ip"},
        {"mac", "--mac"},
        {"ipRanges", "--ip-range"},
        {"bandwidth", "--ingress-rate/--egress-rate"}};
    for (const auto& [name, value] : caps.items()) {
        bool taken = false;
        for (const auto& plugin : list.plugins) {
            auto declared = plugin.capabilities();
            taken = taken || std::find(declared.begin(), declared.end(), name) != declared.end();
        }
        if (!taken) {
            auto it = kOption.find(name);
            throw libcni::Error("network \"" + list.name + "\" (" + list.source +
                                ") has no plugin with the \"" + name + "\" capability, needed by " +
                                (it != kOption.end() ? it->second : "--capability " + name));
        }
    }
}

void print_attachment(std::ostream& out, const Target& t, const json& result, const json& caps) {
    auto r = cni::parse_result(result);
    out << "attached " << t.network << " to " << t.netns << "\n"
        << "  container  " << t.container_id << "\n";
    for (const auto& i : r.interfaces) {
        if (!i.sandbox.empty()) {
            bool no_mac = i.mac.empty() || i.mac == "00:00:00:00:00:00";  // lo has none
            out << "  interface  " << i.name << (no_mac ? "" : "  " + i.mac) << "\n";
        }
    }
    for (const auto& ip : r.ips) {
        out << "  address    " << ip.address.to_string()
            << (ip.gateway ? "  gateway " + ip.gateway->to_string() : "") << "\n";
    }
    for (const auto& m : caps.value("portMappings", json::array())) {
        out << "  port       " << m.value("hostIP", std::string{"*"}) << ":"
            << m["hostPort"].get<int>() << " -> " << m["containerPort"].get<int>() << "/"
            << m["protocol"].get<std::string>() << "\n";
    }
}

}  // namespace

int cmd_attach(Invocation& inv) {
    ParseSpec spec;
    spec.description =
        "Attach network namespace NETNS (a name under /run/netns or a path) to network NET:\n"
        "run CNI ADD for each plugin of NET's chain, in order, and record the result in the\n"
        "cache. If a plugin fails, the chain gets DEL so nothing is left half-configured.";
    add_target_options(spec);
    add_attach_options(spec);
    auto vm = parse(inv, spec);
    if (!vm) {
        return 0;
    }
    Target t = target_from(*vm);
    libcni::RuntimeConf rc{t.container_id, t.netns, t.ifname, {}, json::object()};
    try {
        rc.capability_args = capability_args(*vm);
        if (vm->count("cni-args") != 0) {
            rc.args = libcni::parse_cni_args((*vm)["cni-args"].as<std::string>());
        }
    } catch (const libcni::ArgumentError& e) {
        throw UsageError(e.what());
    }
    if (!libcni::netns_alive(t.netns)) {
        throw libcni::Error("network namespace " + t.netns +
                            " does not exist (create a named one with 'sdnet netns add NAME')");
    }
    auto list = inv.globals.load(t.network);
    require_capabilities(list, rc.capability_args);
    auto rt = inv.globals.runtime();
    if (auto file = rt.cache().path_for(t.network, t.container_id, t.ifname);
        std::filesystem::exists(file)) {
        throw libcni::Error("already attached: " + t.network + " " + t.container_id + " " +
                            t.ifname + " is in the cache (" + file.string() +
                            "); detach it first or pick another --ifname or --id");
    }
    rt.validate(list);
    json result = rt.add(list, rc);
    if ((*vm)["json"].as<bool>()) {
        inv.out << result.dump(2) << "\n";
    } else {
        print_attachment(inv.out, t, result, rc.capability_args);
    }
    return 0;
}

}  // namespace sdnet
