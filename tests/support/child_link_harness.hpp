#pragma once

#include <functional>
#include <string>
#include <vector>

#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"
#include "tests/support/bridge_harness.hpp"

// Tests of the plugins whose interface is a link of a master (macvlan, ipvlan, vlan): the master
// is a veth in the test's private netns, containers are namespaces made by make_netns. Compile
// with tests/bridge/bridge_harness.cpp.
namespace sdnet::test {

class ChildLinkTest : public BridgeTest {
protected:
    static constexpr const char* kMaster = "mst0";

    explicit ChildLinkTest(std::string plugin) : plugin_(std::move(plugin)) {}

    void SetUp() override {
        BridgeTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        auto sock = netlib::RouteSocket::open();
        netlib::VethSpec spec{kMaster, "mst0peer", nullptr, 1400, std::nullopt, 0, true, nullptr};
        master_ = netlib::create_veth(sock, spec);
    }

    // A network named `name` of this plugin on kMaster, host-local on 10.77.0.0/24 and fd77::/64.
    json conf(const std::string& version = "1.0.0", const std::string& name = "clnet") const {
        return {{"cniVersion", version},
                {"name", name},
                {"type", plugin_},
                {"master", kMaster},
                {"ipam",
                 {{"type", "host-local"},
                  {"ranges", {{{{"subnet", "10.77.0.0/24"}}}, {{{"subnet", "fd77::/64"}}}}},
                  {"routes", {{{"dst", "10.99.0.0/16"}}}}}}};
    }

    Call call(const std::string& command, const TestNetns& ns, const json& c,
              const std::string& binary = "") {
        return run(command, ns, c, "eth0", binary.empty() ? plugin_path(plugin_) : binary);
    }

    json add_ok(const TestNetns& ns, const json& c) {
        auto r = call("ADD", ns, c);
        EXPECT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
        return r.out;
    }

    // `ip -j -d link show` of `ifname` in `ns`, null when absent.
    static json link_in(const TestNetns& ns, const std::string& ifname = "eth0") {
        for (const auto& l : ip_json("-n " + ns.name + " -d link show")) {
            if (l["ifname"] == ifname) {
                return l;
            }
        }
        return nullptr;
    }

    // Global addresses of eth0 in `ns`, "a/prefix".
    static std::vector<std::string> addresses_in(const TestNetns& ns) {
        std::vector<std::string> out;
        for (const auto& l : ip_json("-n " + ns.name + " addr show dev eth0")) {
            for (const auto& a : l["addr_info"]) {
                if (a["scope"] == "global") {
                    out.push_back(a["local"].get<std::string>() + "/" +
                                  std::to_string(a["prefixlen"].get<int>()));
                }
            }
        }
        return out;
    }

    // Every link in `ns` but lo.
    static std::vector<std::string> links_besides_lo(const TestNetns& ns) {
        std::vector<std::string> out;
        for (const auto& l : ip_json("-n " + ns.name + " link show")) {
            if (l["ifname"] != "lo") {
                out.push_back(l["ifname"]);
            }
        }
        return out;
    }

    // ADD in every spec version from 0.3.1 (result printed in it), then a GC with an empty list
    // of valid attachments releases all of `network`'s addresses, and STATUS succeeds.
    void expect_every_version_then_gc_and_status(
        const std::function<json(const std::string& version, int n)>& conf_of,
        const std::string& network) {
        int n = 0;
        for (const char* v : {"0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
            auto ns = make_netns(std::string{"v"} + v[0] + v[2]);
            EXPECT_EQ(add_ok(ns, conf_of(v, n++))["cniVersion"], v);
        }
        EXPECT_FALSE(reservations(network).empty());
        json gc = conf_of("1.1.0", n);
        gc["cni.dev/valid-attachments"] = json::array();
        auto any = make_netns("gc");
        EXPECT_EQ(call("GC", any, gc).r.exit_code, 0);
        EXPECT_TRUE(reservations(network).empty());
        EXPECT_EQ(call("STATUS", any, conf_of("1.1.0", n)).r.exit_code, 0);
    }

    std::string plugin_;
    netlib::LinkInfo master_;
};

}  // namespace sdnet::test
