#include "tests/bandwidth/bandwidth_harness.hpp"

namespace sdnet::test {
namespace {

std::string in_ns(const std::string& ns) {
    return ns.empty() ? "" : "-n " + ns + " ";
}

}  // namespace

json bandwidth_conf(std::uint64_t ingress_rate, std::uint64_t ingress_burst,
                    std::uint64_t egress_rate, std::uint64_t egress_burst,
                    const std::string& version) {
    json conf = {{"cniVersion", version}, {"name", "sdnet-bridge"}, {"type", "bandwidth"}};
    auto set = [&conf](const char* key, std::uint64_t v) {
        if (v != 0) {
            conf[key] = v;
        }
    };
    set("ingressRate", ingress_rate);
    set("ingressBurst", ingress_burst);
    set("egressRate", egress_rate);
    set("egressBurst", egress_burst);
    return conf;
}

json tc_qdiscs(const std::string& ns, const std::string& dev) {
    return json::parse(observe("tc " + in_ns(ns) + "-j qdisc show dev " + dev));
}

json qdisc_of_kind(const json& qdiscs, const std::string& kind) {
    for (const auto& q : qdiscs) {
        if (q.value("kind", "") == kind) {
            return q;
        }
    }
    return nullptr;
}

json tc_ingress_filters(const std::string& ns, const std::string& dev) {
    std::string out = observe("tc " + in_ns(ns) + "-j filter show dev " + dev + " ingress");
    return out.empty() ? json::array() : json::parse(out);
}

std::vector<std::string> mirred_targets(const json& filters) {
    std::vector<std::string> out;
    for (const auto& f : filters) {
        if (!f.contains("options") || !f["options"].contains("actions")) {
            continue;
        }
        for (const auto& a : f["options"]["actions"]) {
            if (a.value("kind", "") == "mirred") {
                out.push_back(a.value("to_dev", ""));
            }
        }
    }
    return out;
}

json ifb_links(const std::string& ns) {
    return ip_json(in_ns(ns) + "-d link show type ifb");
}

json link_of(const std::string& ns, const std::string& dev) {
    json all = ip_json(in_ns(ns) + "link show");
    for (const auto& l : all) {
        if (l["ifname"] == dev) {
            return l;
        }
    }
    return nullptr;
}

std::string host_veth(const json& bridge_result) {
    return bridge_result["interfaces"][1]["name"];
}

// Shaping needs no masquerade, so these tests need no nftables.
json BandwidthTest::attach(const TestNetns& ns) {
    return add(ns, unmasqueraded_bridge_conf());
}

BridgeTest::Call BandwidthTest::bandwidth(const std::string& command, const TestNetns& ns,
                                          json conf, const json& prev, const std::string& ifname,
                                          const std::string& binary) {
    if (!prev.is_null()) {
        conf["prevResult"] = prev;
    }
    return run(command, ns, conf, ifname, binary.empty() ? plugin_path("bandwidth") : binary);
}

}  // namespace sdnet::test
