// Many runtimes' calls at once: 16 containers of one network shaped and unshaped in parallel,
// each a separate plugin process as a runtime starts them.
#include <gtest/gtest.h>
#include <thread>

#include "tests/bandwidth/bandwidth_harness.hpp"

namespace sdnet::test {
namespace {

using Concurrency = BandwidthTest;

constexpr int kContainers = 16;

json limits_conf() {
    return bandwidth_conf(8'000'000, 800'000, 16'000'000, 1'600'000);
}

TEST_F(Concurrency, ParallelAddThenDelOnOneNetworkLosesAndLeavesNothing) {
    std::vector<TestNetns> ns;
    std::vector<json> prev;
    for (int i = 0; i < kContainers; ++i) {
        ns.push_back(make_netns("c" + std::to_string(i)));
        prev.push_back(attach(ns.back()));
    }
    // Every call of one round in its own thread, started together; results checked afterwards
    // on this thread.
    auto round = [&](const std::string& command, const std::vector<json>& inputs) {
        std::vector<Call> calls(kContainers);
        std::vector<std::thread> threads;
        for (int i = 0; i < kContainers; ++i) {
            threads.emplace_back(
                [&, i] { calls[i] = bandwidth(command, ns[i], limits_conf(), inputs[i]); });
        }
        for (auto& t : threads) {
            t.join();
        }
        return calls;
    };

    auto adds = round("ADD", prev);
    std::vector<json> results;
    for (int i = 0; i < kContainers; ++i) {
        ASSERT_EQ(adds[i].r.exit_code, 0) << i << ": " << adds[i].r.out << adds[i].r.err;
        results.push_back(adds[i].out);
    }
    // Nothing lost: each container's veth redirects to its own ifb, which names its owner.
    auto ifbs = ifb_links("");
    ASSERT_EQ(ifbs.size(), std::size_t{kContainers}) << ifbs;
    for (int i = 0; i < kContainers; ++i) {
        std::string ifb = results[i]["interfaces"].back()["name"];
        EXPECT_EQ(link_of("", ifb)["ifalias"], "sdnet-bridge/ctr-" + ns[i].name + "/eth0");
        EXPECT_EQ(mirred_targets(tc_ingress_filters("", host_veth(prev[i]))),
                  std::vector<std::string>{ifb});
        EXPECT_EQ(bandwidth("CHECK", ns[i], limits_conf(), results[i]).r.exit_code, 0) << i;
    }

    auto dels = round("DEL", results);
    for (int i = 0; i < kContainers; ++i) {
        EXPECT_EQ(dels[i].r.exit_code, 0) << i << ": " << dels[i].r.out << dels[i].r.err;
    }
    // Nothing left: no ifb, no qdisc of ours on any veth.
    EXPECT_TRUE(ifb_links("").empty()) << ifb_links("");
    for (int i = 0; i < kContainers; ++i) {
        auto qdiscs = tc_qdiscs("", host_veth(prev[i]));
        EXPECT_TRUE(qdisc_of_kind(qdiscs, "tbf").is_null()) << i << ": " << qdiscs;
        EXPECT_TRUE(qdisc_of_kind(qdiscs, "ingress").is_null()) << i << ": " << qdiscs;
    }
}

}  // namespace
}  // namespace sdnet::test
