#include "tests/tuning/tuning_harness.hpp"

#include <fstream>
#include <memory>
#include <sstream>

namespace sdnet::test {
namespace {

std::string cid(const TestNetns& ns) {
    return "ctr-" + ns.name;
}

void add_eth0(const TestNetns& ns) {
    observe("ip link add h-" + ns.name + " type veth peer name eth0 netns " + ns.name);
    observe("ip -n " + ns.name + " link set eth0 up");
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const LinkState& s) {
    return os << "{mac " << s.mac << " mtu " << s.mtu << " promisc " << s.promisc << " allmulti "
              << s.allmulti << " txqlen " << s.txqlen << "}";
}

void TuningTest::SetUp() {
    BridgeTest::SetUp();
    if (IsSkipped()) {
        return;
    }
    c1_.emplace(make_netns("c1"));
    add_eth0(*c1_);
}

const TestNetns& TuningTest::container(const std::string& name) {
    more_.push_back(std::make_unique<TestNetns>(make_netns(name)));
    add_eth0(*more_.back());
    return *more_.back();
}

json TuningTest::prev_result(const TestNetns& ns, const std::string& version) const {
    return {{"cniVersion", version},
            {"interfaces", {{{"name", "eth0"}, {"mac", link(ns).mac}, {"sandbox", ns.path}}}},
            {"ips", {{{"address", "10.99.0.2/24"}, {"interface", 0}}}}};
}

json TuningTest::conf(const TestNetns& ns, const json& keys, const std::string& version) const {
    json c = {{"cniVersion", version}, {"name", "tnet"}, {"type", "tuning"}};
    c.update(keys);
    c["prevResult"] = prev_result(ns, version);
    return c;
}

BridgeTest::Call TuningTest::tuning(const std::string& command, const TestNetns& ns, const json& c,
                                    const std::string& binary, const std::string& cni_args) {
    std::string bin = binary.empty() ? plugin_path("tuning") : binary;
    std::map<std::string, std::string> env{{"CNI_COMMAND", command},
                                           {"CNI_CONTAINERID", cid(ns)},
                                           {"CNI_NETNS", ns.path},
                                           {"CNI_IFNAME", "eth0"},
                                           {"CNI_PATH", bin.substr(0, bin.rfind('/'))}};
    if (!cni_args.empty()) {
        env["CNI_ARGS"] = cni_args;
    }
    return run_env(env, c, bin);
}

LinkState TuningTest::link(const TestNetns& ns, const std::string& dev) const {
    json l = ip_json("-n " + ns.name + " -d link show " + dev)[0];
    LinkState s;
    s.mac = l["address"];
    s.mtu = l["mtu"];
    for (const auto& f : l["flags"]) {
        s.promisc = s.promisc || f == "PROMISC";
        s.allmulti = s.allmulti || f == "ALLMULTI";
    }
    s.txqlen = l["txqlen"];
    return s;
}

std::string TuningTest::sysctl(const TestNetns& ns, const std::string& path) const {
    auto v = observe("ip netns exec " + ns.name + " cat /proc/sys/" + path);
    while (!v.empty() && v.back() == '\n') {
        v.pop_back();
    }
    return v;
}

std::optional<std::string> TuningTest::saved(const TestNetns& ns, const std::string& dir) const {
    std::ifstream f(dir + "/" + cid(ns) + "_eth0.json");
    if (!f) {
        return std::nullopt;
    }
    std::stringstream text;
    text << f.rdbuf();
    return text.str();
}

}  // namespace sdnet::test
