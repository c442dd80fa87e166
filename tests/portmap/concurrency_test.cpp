// portmap ADDs and DELs running at once, as a runtime starting containers in parallel runs
// them: two containers wanting one host port, and many containers with ports of their own.
#include <algorithm>
#include <gtest/gtest.h>
#include <thread>

#include "tests/portmap/portmap_harness.hpp"

namespace sdnet::test {
namespace {

using Strings = std::vector<std::string>;

class PortmapConcurrency : public PortmapTest {
protected:
    // Runs every call at once and waits for all of them.
    static std::vector<Call> at_once(const std::vector<std::function<Call()>>& work) {
        std::vector<Call> calls(work.size());
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < work.size(); ++i) {
            threads.emplace_back([&, i] { calls[i] = work[i](); });
        }
        for (auto& t : threads) {
            t.join();
        }
        return calls;
    }

    // The owner tags (comments) in every map and set of table inet sdnet_portmap.
    static Strings owners() {
        Strings out;
        auto ruleset = json::parse(observe("nft -j list table inet sdnet_portmap"));
        for (const auto& item : ruleset["nftables"]) {
            for (const char* kind : {"set", "map"}) {
                if (!item.contains(kind) || !item[kind].contains("elem")) {
                    continue;
                }
                for (const auto& e : item[kind]["elem"]) {
                    const json& key = e.is_array() ? e[0] : e;
                    if (key.is_object() && key.contains("elem")) {
                        out.push_back(key["elem"].value("comment", ""));
                    }
                }
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    static std::string owner(const TestNetns& ns) {
        return "sdnet net=sdnet-bridge cid=ctr-" + ns.name + " if=eth0";
    }
};

// Both want tcp 8080 and udp 5353: whoever commits first holds both, the other is refused
// whatever the interleaving, and leaves no element behind.
TEST_F(PortmapConcurrency, TwoAddsOfOneHostPortExactlyOneWins) {
    auto c1 = make_netns("c1");
    auto c2 = make_netns("c2");
    json r1 = attach(c1);
    json r2 = attach(c2);
    json ports = json::array({mapping(8080, 80), mapping(5353, 53, "udp")});
    for (int round = 0; round < 8; ++round) {
        auto calls = at_once({[&] { return portmap("ADD", c1, portmap_conf(r1, ports)); },
                              [&] { return portmap("ADD", c2, portmap_conf(r2, ports)); }});
        int winners = 0;
        for (std::size_t i = 0; i < calls.size(); ++i) {
            if (calls[i].r.exit_code == 0) {
                ++winners;
                continue;
            }
            EXPECT_EQ(calls[i].code(), 999) << calls[i].r.out << calls[i].r.err;
            EXPECT_NE(calls[i].out.value("msg", "").find("is already published by"),
                      std::string::npos)
                << calls[i].r.out;
        }
        ASSERT_EQ(winners, 1) << "round " << round;
        const TestNetns& winner = calls[0].r.exit_code == 0 ? c1 : c2;
        // Per family: the two ports and the hairpin address, all the winner's.
        EXPECT_EQ(owners(), Strings(6, owner(winner))) << "round " << round;
        for (const auto& [ns, r] : {std::pair{&c1, &r1}, std::pair{&c2, &r2}}) {
            auto del = portmap("DEL", *ns, portmap_conf(*r, ports));
            ASSERT_EQ(del.r.exit_code, 0) << del.r.out;
        }
        ASSERT_TRUE(owners().empty());
    }
}

TEST_F(PortmapConcurrency, SixteenParallelAddsThenDelsLoseNothingAndLeaveNothing) {
    constexpr int kContainers = 16;
    std::vector<TestNetns> nss;
    std::vector<json> confs;
    for (int i = 0; i < kContainers; ++i) {
        nss.push_back(make_netns("par"));
        json ports = json::array({mapping(8000 + i, 80), mapping(9000 + i, 53, "udp")});
        confs.push_back(portmap_conf(attach(nss.back()), ports));
    }
    auto each = [&](const std::string& command) {
        std::vector<std::function<Call()>> work;
        for (int i = 0; i < kContainers; ++i) {
            work.push_back([&, i] { return portmap(command, nss[i], confs[i]); });
        }
        for (const auto& c : at_once(work)) {
            EXPECT_EQ(c.r.exit_code, 0) << command << ": " << c.r.out << c.r.err;
        }
    };

    each("ADD");
    EXPECT_EQ(elements("anyports4").size(), 2u * kContainers);
    EXPECT_EQ(elements("anyports6").size(), 2u * kContainers);
    EXPECT_EQ(elements("hairpin4").size(), std::size_t{kContainers});
    Strings want;
    for (const auto& ns : nss) {
        want.insert(want.end(), 6, owner(ns));  // 2 ports and a hairpin address per family
    }
    std::sort(want.begin(), want.end());
    EXPECT_EQ(owners(), want);

    each("DEL");
    EXPECT_TRUE(owners().empty());
}

}  // namespace
}  // namespace sdnet::test
