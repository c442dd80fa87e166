#include "tests/support/bridge_harness.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace sdnet::test {

std::string observe(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        ADD_FAILURE() << "cannot run " << cmd;
        return out;
    }
    std::array<char, 4096> buf{};
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) {
        out.append(buf.data(), n);
    }
    int status = ::pclose(p);
    EXPECT_EQ(status, 0) << cmd;
    return out;
}

json ip_json(const std::string& args) {
    return json::parse(observe("ip -j " + args));
}

std::vector<std::string> nft_elements(const std::string& table, const std::string& set) {
    std::vector<std::string> out;
    auto ruleset = json::parse(observe("nft -j list ruleset"));
    for (const auto& item : ruleset["nftables"]) {
        for (const char* kind : {"set", "map"}) {
            if (!item.contains(kind)) {
                continue;
            }
            const auto& s = item[kind];
            if (s["table"] != table || s["name"] != set || !s.contains("elem")) {
                continue;
            }
            for (const auto& e : s["elem"]) {
                // A map element is [key, data]; an element with a comment is {"elem": {"val":
                // ...}}.
                json key = e.is_array() ? e[0] : e;
                if (key.is_object() && key.contains("elem")) {
                    key = key["elem"]["val"];
                }
                out.push_back(key.is_string() ? key.get<std::string>() : key.dump());
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> reservations(const std::string& network) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e :
         std::filesystem::directory_iterator("/var/lib/cni/networks/" + network, ec)) {
        std::string name = e.path().filename();
        if (name != "lock" && !name.starts_with("last_reserved_ip") && !name.starts_with(".")) {
            out.push_back(name);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> bridge_ports(const std::string& bridge) {
    std::vector<std::string> out;
    for (const auto& l : ip_json("link show master " + bridge)) {
        out.push_back(l["ifname"]);
    }
    return out;
}

bool ping(const std::string& ns_name, const std::string& addr) {
    std::string cmd = "ip netns exec " + ns_name + " ping -c1 -W2 " + addr + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;  // NOLINT(concurrency-mt-unsafe): test observer
}

json bridge_conf(const std::string& version) {
    std::ifstream f(std::string{SDNET_SOURCE_DIR} + "/conf/10-sdnet-bridge.conflist");
    json list = json::parse(f);
    json conf = list["plugins"][0];
    conf["cniVersion"] = version;
    conf["name"] = list["name"];
    return conf;
}

json unmasqueraded_bridge_conf(const std::string& version) {
    json conf = bridge_conf(version);
    conf["ipMasq"] = false;
    return conf;
}

BridgeTest::Call BridgeTest::run_env(std::map<std::string, std::string> env, const json& conf,
                                     const std::string& binary) {
    Call c;
    std::string bin = binary.empty() ? plugin_path("bridge") : binary;
    c.r = run_plugin(bin, env, conf.dump());
    if (!c.r.out.empty()) {
        c.out = json::parse(c.r.out, nullptr, false);
    }
    return c;
}

BridgeTest::Call BridgeTest::run(const std::string& command, const TestNetns& ns, const json& conf,
                                 const std::string& ifname, const std::string& binary) {
    std::string dir = binary.empty() ? plugin_path("") : binary.substr(0, binary.rfind('/'));
    return run_env({{"CNI_COMMAND", command},
                    {"CNI_CONTAINERID", "ctr-" + ns.name},
                    {"CNI_NETNS", ns.path},
                    {"CNI_IFNAME", ifname},
                    {"CNI_PATH", dir}},
                   conf, binary);
}

json BridgeTest::add(const TestNetns& ns, const json& conf, const std::string& ifname) {
    auto c = run("ADD", ns, conf, ifname);
    EXPECT_EQ(c.r.exit_code, 0) << c.r.out << c.r.err;
    return c.out;
}

}  // namespace sdnet::test
