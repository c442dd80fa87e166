// GC removes the ifbs of attachments that are not in cni.dev/valid-attachments, and nothing
// else: not live attachments', not other networks', not devices without our owner alias.
#include <gtest/gtest.h>

#include "tests/bandwidth/bandwidth_harness.hpp"

namespace sdnet::test {
namespace {

std::vector<std::string> ifb_names() {
    std::vector<std::string> out;
    for (const auto& l : ifb_links("")) {
        out.push_back(l["ifname"]);
    }
    std::sort(out.begin(), out.end());
    return out;
}

class GcTest : public BandwidthTest {
protected:
    json limits(const std::string& network = "sdnet-bridge") {
        json conf = bandwidth_conf(8'000'000, 800'000, 8'000'000, 800'000);
        conf["name"] = network;
        return conf;
    }

    std::string shaped(const TestNetns& ns, const std::string& network = "sdnet-bridge") {
        json prev = attach(ns);
        auto r = bandwidth("ADD", ns, limits(network), prev);
        EXPECT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
        return r.out["interfaces"].back()["name"];
    }

    Call gc(const json& valid) {
        json conf = limits();
        conf["cniVersion"] = "1.1.0";
        if (!valid.is_null()) {
            conf["cni.dev/valid-attachments"] = valid;
        }
        return run_env({{"CNI_COMMAND", "GC"}, {"CNI_PATH", plugin_path("")}}, conf,
                       plugin_path("bandwidth"));
    }
};

TEST_F(GcTest, RemovesOnlyTheIfbsOfDeadAttachmentsOfItsNetwork) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    auto c3 = make_netns("c3");
    std::string dead = shaped(c1);
    std::string live = shaped(c2);
    std::string other_net = shaped(c3, "othernet");
    observe("ip link add bwp000000000000 type ifb");  // no owner alias: not ours
    observe("ip link add bwp111111111111 type ifb");
    observe("ip link set bwp111111111111 alias sdnet-bridge/forged/eth0");  // name != hash

    auto none = gc(nullptr);  // no list: nothing is known to be dead
    EXPECT_EQ(none.r.exit_code, 0) << none.r.out;
    EXPECT_EQ(ifb_names().size(), 5u);

    auto r = gc({{{"containerID", "ctr-" + c2.name}, {"ifname", "eth0"}}});
    EXPECT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    EXPECT_TRUE(r.r.out.empty());
    std::vector<std::string> want{live, other_net, "bwp000000000000", "bwp111111111111"};
    std::sort(want.begin(), want.end());
    EXPECT_EQ(ifb_names(), want);
    EXPECT_TRUE(link_of("", dead).is_null());
}

TEST_F(GcTest, TheIfnameMustMatchToo) {
    auto c1 = make_netns("c1");
    shaped(c1);
    auto r = gc({{{"containerID", "ctr-" + c1.name}, {"ifname", "eth1"}}});
    EXPECT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_TRUE(ifb_names().empty());
}

TEST_F(GcTest, AnEmptyListRemovesEveryIfbOfTheNetwork) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    shaped(c1);
    std::string other = shaped(c2, "othernet");
    auto r = gc(json::array());
    EXPECT_EQ(r.r.exit_code, 0) << r.r.out;
    EXPECT_EQ(ifb_names(), std::vector<std::string>{other});
}

}  // namespace
}  // namespace sdnet::test
