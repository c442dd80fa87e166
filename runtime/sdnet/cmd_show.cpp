// sdnet show [NET]: the topology as a tree, JSON or a Graphviz graph.
#include <iostream>
#include <sstream>

#include "runtime/sdnet/commands.hpp"
#include "runtime/sdnet/topology.hpp"

namespace sdnet {
namespace {

struct Node {
    std::string label;
    std::vector<Node> children;
};

std::string joined(const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (const auto& i : items) {
        out += (out.empty() ? "" : sep) + i;
    }
    return out;
}

std::string link_label(const LinkView& l, const std::string& what) {
    std::string out = what.empty() ? l.name : what + " " + l.name;
    out += l.mac.empty() ? "" : "  " + l.mac;
    out += l.up ? "  up" : "  down";
    if (!l.addresses.empty()) {
        out += "  " + joined(l.addresses, ", ");
    }
    return out;
}

std::string port_label(const json& m) {
    std::ostringstream out;
    out << "port " << m.value("hostIP", std::string{"*"}) << ":" << m.value("hostPort", 0) << " -> "
        << m.value("containerPort", 0) << "/" << m.value("protocol", std::string{"tcp"});
    return out.str();
}

// netns, its interface and its ports; hangs under the host veth when there is one.
Node netns_node(const AttachmentView& a) {
    Node ns{"netns " + a.entry.netns + (a.netns_exists ? "" : " (gone)") + "  [" +
                a.entry.container_id + "]",
            {}};
    if (a.container_link) {
        Node iface{link_label(*a.container_link, ""), {}};
        for (const auto& m : a.entry.capability_args.value("portMappings", json::array())) {
            iface.children.push_back({port_label(m), {}});
        }
        ns.children.push_back(std::move(iface));
    } else if (!a.problem.empty()) {
        ns.children.push_back({"(" + a.problem + ")", {}});
    } else {
        ns.children.push_back({a.entry.ifname + " (not readable)", {}});
    }
    return ns;
}

Node network_node(const NetworkView& n) {
    Node root{
        "network " + n.name + (n.plugins.empty() ? "" : "  [" + joined(n.plugins, " -> ") + "]"),
        {}};
    std::vector<bool> placed(n.attachments.size(), false);
    for (const auto& b : n.bridges) {
        Node bridge{link_label(b, "bridge"), {}};
        for (std::size_t i = 0; i < n.attachments.size(); ++i) {
            const auto& a = n.attachments[i];
            if (a.host_link && a.host_link->master == b.index) {
                Node veth{link_label(*a.host_link, "veth"), {netns_node(a)}};
                bridge.children.push_back(std::move(veth));
                placed[i] = true;
            }
        }
        root.children.push_back(std::move(bridge));
    }
    for (std::size_t i = 0; i < n.attachments.size(); ++i) {
        if (!placed[i]) {
            const auto& a = n.attachments[i];
            root.children.push_back(a.host_link
                                        ? Node{link_label(*a.host_link, "veth"), {netns_node(a)}}
                                        : netns_node(a));
        }
    }
    return root;
}

void print_tree(std::ostream& out, const Node& node, const std::string& prefix, bool last,
                bool root) {
    out << (root ? "" : prefix + (last ? "└─ " : "├─ ")) << node.label << "\n";
    std::string child_prefix = root ? "" : prefix + (last ? "   " : "│  ");
    for (std::size_t i = 0; i < node.children.size(); ++i) {
        print_tree(out, node.children[i], child_prefix, i + 1 == node.children.size(), false);
    }
}

std::string quoted(const std::string& s) {
    return json(s).dump();  // a JSON string is a valid DOT ID
}

std::string dot_label(const LinkView& l) {
    return quoted(l.name + (l.addresses.empty() ? "" : "\n" + joined(l.addresses, "\n")));
}

void print_dot_network(std::ostream& out, const NetworkView& n) {
    for (const auto& b : n.bridges) {
        out << "  " << quoted("host/" + b.name) << " [shape=box, label=" << dot_label(b) << "];\n";
    }
    for (const auto& a : n.attachments) {
        std::string inner = "ns/" + a.entry.container_id + a.entry.netns + "/" + a.entry.ifname;
        out << "  subgraph "
            << quoted("cluster " + a.entry.container_id + " " + a.entry.netns + " " +
                      a.entry.ifname)
            << " {\n    label=" << quoted(a.entry.netns) << ";\n    " << quoted(inner) << " [label="
            << (a.container_link ? dot_label(*a.container_link) : quoted(a.entry.ifname))
            << "];\n  }\n";
        if (!a.host_link) {
            continue;
        }
        std::string host = "host/" + a.host_link->name;
        out << "  " << quoted(host) << " [label=" << dot_label(*a.host_link) << "];\n"
            << "  " << quoted(host) << " -> " << quoted(inner) << " [dir=both, label=\"veth\"];\n";
        for (const auto& b : n.bridges) {
            if (a.host_link->master == b.index) {
                out << "  " << quoted("host/" + b.name) << " -> " << quoted(host) << ";\n";
            }
        }
    }
}

void print_dot(std::ostream& out, const std::vector<NetworkView>& networks) {
    out << "digraph sdnet {\n  rankdir=LR;\n  node [shape=ellipse, fontname=\"monospace\"];\n";
    for (const auto& n : networks) {
        print_dot_network(out, n);
    }
    out << "}\n";
}

}  // namespace

int cmd_show(Invocation& inv) {
    ParseSpec spec;
    spec.description =
        "Show the topology of network NET, or of every network: the host bridges, the host end\n"
        "of each attachment's veth, the network namespace and its interface with addresses, and\n"
        "published ports. Read from the result cache and the kernel; changes nothing.\n"
        "Graphviz: sdnet show --dot | dot -Tsvg > net.svg";
    spec.positional = {"net"};
    spec.optional_positional = 1;
    spec.options.add_options()("json", po::bool_switch(), "print the topology as JSON")(
        "dot", po::bool_switch(), "print a Graphviz (dot) graph");
    auto vm = parse(inv, spec);
    if (!vm) {
        return 0;
    }
    if ((*vm)["json"].as<bool>() && (*vm)["dot"].as<bool>()) {
        throw UsageError("--json and --dot exclude each other");
    }
    std::optional<std::string> only;
    if (vm->count("net") != 0) {
        only = (*vm)["net"].as<std::string>();
    }
    auto networks = gather_topology(libcni::ResultCache(inv.globals.resolved_cache_dir()),
                                    inv.globals.resolved_conf_dir(), only);
    if ((*vm)["json"].as<bool>()) {
        inv.out << to_json(networks).dump(2) << "\n";
    } else if ((*vm)["dot"].as<bool>()) {
        print_dot(inv.out, networks);
    } else {
        for (const auto& n : networks) {
            print_tree(inv.out, network_node(n), "", true, true);
        }
    }
    return 0;
}

}  // namespace sdnet
