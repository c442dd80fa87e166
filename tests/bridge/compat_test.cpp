// The same config through the reference bridge (/usr/lib/cni/bridge, v1.1.1) and ours: results
// and the container's addresses and routes must agree, but for generated names and MACs.
#include <filesystem>
#include <gtest/gtest.h>

#include "tests/bridge/bridge_harness.hpp"

namespace sdnet::test {
namespace {

constexpr const char* kReference = "/usr/lib/cni/bridge";

class Compat : public BridgeTest {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(kReference)) {
            GTEST_SKIP() << kReference << " not installed (package containernetworking-plugins)";
        }
        BridgeTest::SetUp();
    }

    // The reference prints only what differs by run: clear names and MACs of host-side links.
    static json normalized(json r) {
        for (auto& i : r["interfaces"]) {
            i.erase("mac");
            if (!i.contains("sandbox")) {
                i["name"] = "<host>";
            }
        }
        if (r.contains("dns") && r["dns"].empty()) {
            r.erase("dns");
        }
        return r;
    }

    static json container_view(const std::string& ns) {
        json addrs = json::array();
        json links = ip_json("-n " + ns + " addr show dev eth0");  // must outlive the loop
        for (const auto& a : links[0]["addr_info"]) {
            if (a["scope"] == "global") {
                addrs.push_back(a["local"].get<std::string>() + "/" +
                                std::to_string(a["prefixlen"].get<int>()));
            }
        }
        json routes = json::array();
        for (const char* family : {"-4", "-6"}) {
            for (auto r : ip_json(std::string{family} + " -n " + ns + " route show")) {
                if (r["dst"].get<std::string>().starts_with("fe80")) {
                    continue;
                }
                r.erase("flags");
                routes.push_back(r);
            }
        }
        return {{"addresses", addrs}, {"routes", routes}};
    }
};

TEST_F(Compat, SameResultAndContainerStateAsTheReference) {
    json conf = bridge_conf("1.0.0");
    conf["ipMasq"] = false;  // the reference would need iptables for it
    auto ours_ns = make_netns("ours");
    auto ref_ns = make_netns("ref");

    json ours_conf = conf;
    ours_conf["ipam"]["dataDir"] = "/run/cni/ours";
    json ref_conf = conf;
    ref_conf["bridge"] = "refbr0";
    ref_conf["ipam"]["dataDir"] = "/run/cni/ref";

    auto ours = run("ADD", ours_ns, ours_conf);
    auto ref = run("ADD", ref_ns, ref_conf, "eth0", kReference);
    ASSERT_EQ(ours.r.exit_code, 0) << ours.r.out << ours.r.err;
    ASSERT_EQ(ref.r.exit_code, 0) << ref.r.out << ref.r.err;

    json a = normalized(ours.out);
    json b = normalized(ref.out);
    for (auto* r : {&a, &b}) {
        (*r)["interfaces"][0]["name"] = "<bridge>";  // "sdnet0" and "refbr0"
        (*r)["interfaces"][2]["sandbox"] = "<netns>";
    }
    EXPECT_EQ(a, b) << "ours: " << a.dump() << "\nreference: " << b.dump();
    EXPECT_EQ(container_view(ours_ns.name), container_view(ref_ns.name));

    EXPECT_EQ(run("DEL", ours_ns, ours_conf).r.exit_code, 0);
    EXPECT_EQ(run("DEL", ref_ns, ref_conf, "eth0", kReference).r.exit_code, 0);
}

TEST_F(Compat, ReferenceReservationsAreSeenByOurs) {
    // A network started with the reference and continued with ours (same dataDir) does not
    // hand out the reference's address twice.
    json conf = bridge_conf("1.0.0");
    conf["ipMasq"] = false;
    auto ref_ns = make_netns("ref");
    auto ours_ns = make_netns("ours");
    auto ref = run("ADD", ref_ns, conf, "eth0", kReference);
    ASSERT_EQ(ref.r.exit_code, 0) << ref.r.out;
    json ours = add(ours_ns, conf);
    EXPECT_EQ(ref.out["ips"][0]["address"], "10.88.10.2/24");
    EXPECT_EQ(ours["ips"][0]["address"], "10.88.10.3/24");
    EXPECT_TRUE(ping(ours_ns.name, "10.88.10.2"));
}

}  // namespace
}  // namespace sdnet::test
