// Every plugin with GC state applies the same rule to the same list (cni::ValidAttachments):
// a list that is not SPEC.md's {"containerID", "ifname"} strings is code 7, whatever plugin
// reads it. Before, an entry without ifname kept state in portmap, bandwidth and firewall,
// released it in bridge and host-local, and bridge answered 999 to a non-string containerID.
// The plugins run in the fixture's private namespace, so even a GC that went ahead would only
// see that namespace.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/netns_fixture.hpp"

namespace sdnet::test {
namespace {

using nlohmann::json;

class GcRule : public NetnsTest {
protected:
    json conf(const std::string& type, const json& valid) const {
        json c = {{"cniVersion", "1.1.0"},
                  {"name", "gc-rule"},
                  {"type", type},
                  {"dataDir", "/run/cni/gc-rule"},
                  {"ipam", {{"type", "host-local"}, {"dataDir", "/var/lib/cni/gc-rule"}}},
                  {"cni.dev/valid-attachments", valid}};
        if (type == "host-local") {
            c.erase("ipam");
            c["ipam"] = {{"type", "host-local"},
                         {"dataDir", "/var/lib/cni/gc-rule"},
                         {"subnet", "10.9.0.0/24"}};
        }
        if (type == "vxlan") {
            c["vni"] = 42;
            c["dev"] = "ul0";
        }
        return c;
    }

    CmdResult gc(const std::string& type, const json& valid) const {
        std::string bin = plugin_path(type);
        return run_plugin(bin, {{"CNI_COMMAND", "GC"}, {"CNI_PATH", bin.substr(0, bin.rfind('/'))}},
                          conf(type, valid).dump());
    }
};

TEST_F(GcRule, EveryPluginRejectsAMalformedListWithCode7) {
    const json malformed[] = {
        json::array({{{"containerID", "c1"}}}),                   // no ifname
        json::array({{{"containerID", 5}, {"ifname", "eth0"}}}),  // containerID not a string
        json::array({{{"containerID", "c1"}, {"ifname", ""}}}),   // empty ifname
        json::array({"c1"}),                                      // not an object
    };
    for (const char* type : {"bridge", "bandwidth", "portmap", "firewall", "tuning", "host-local",
                             "macvlan", "ipvlan", "vlan", "tap", "static", "vxlan"}) {
        for (const json& valid : malformed) {
            auto r = gc(type, valid);
            EXPECT_NE(r.exit_code, 0) << type << " accepted " << valid;
            json err = json::parse(r.out, nullptr, false);
            ASSERT_TRUE(err.is_object() || r.out.empty()) << type << ": " << r.out;
            EXPECT_EQ(err.is_object() ? err.value("code", 0) : 0, 7)
                << type << " " << valid << ": " << r.out << r.err;
            EXPECT_NE(r.out.find("valid-attachments"), std::string::npos) << type << ": " << r.out;
        }
        // A well-formed list is accepted by the same plugin (nothing of gc-rule exists here).
        auto ok = gc(type, json::array({{{"containerID", "c1"}, {"ifname", "eth0"}}}));
        EXPECT_EQ(ok.exit_code, 0) << type << ": " << ok.out << ok.err;
    }
}

}  // namespace
}  // namespace sdnet::test
