// Many firewall ADDs and DELs at once, as a runtime starting and stopping containers in
// parallel does: every element arrives, and every element leaves.
#include <algorithm>
#include <gtest/gtest.h>
#include <thread>

#include "tests/firewall/firewall_harness.hpp"

namespace sdnet::test {
namespace {

using Strings = std::vector<std::string>;

constexpr std::size_t kContainers = 16;

Strings sorted(Strings s) {
    std::sort(s.begin(), s.end());
    return s;
}

class FirewallConcurrency : public FirewallTest {
protected:
    // Runs `command` for every container at once; each call must succeed.
    void all_at_once(const std::string& command, const FwNet& net) {
        std::vector<Call> calls(nss_.size());
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < nss_.size(); ++i) {
            threads.emplace_back(
                [&, i] { calls[i] = fw(command, nss_[i], net.firewall, results_[i]); });
        }
        for (auto& t : threads) {
            t.join();
        }
        for (std::size_t i = 0; i < calls.size(); ++i) {
            EXPECT_EQ(calls[i].r.exit_code, 0)
                << command << " of container " << i << ": " << calls[i].r.out << calls[i].r.err;
        }
    }

    std::vector<TestNetns> nss_;
    std::vector<json> results_;  // the bridge plugin's, prevResult of the firewall
};

TEST_F(FirewallConcurrency, SixteenParallelAddsThenDelsLoseNothingAndLeaveNothing) {
    FwNet net = fw_net("fwpar", "fwpar0", "10.92.0.0/24", "isolated");
    for (std::size_t i = 0; i < kContainers; ++i) {
        nss_.push_back(make_netns("par"));
        results_.push_back(add(nss_.back(), net.bridge));
    }
    Strings addrs, ports;
    for (const auto& r : results_) {
        std::string cidr = r["ips"][0]["address"];
        addrs.push_back(cidr.substr(0, cidr.find('/')));
        ports.push_back(r["interfaces"][1]["name"]);
    }
    addrs = sorted(addrs);
    ports = sorted(ports);

    all_at_once("ADD", net);
    EXPECT_EQ(sorted(nft_elements("sdnet_firewall", "ctr4")), addrs);
    EXPECT_EQ(sorted(nft_elements("sdnet_firewall", "isolated_ports")), ports);
    EXPECT_EQ(nft_elements("sdnet_firewall", "isolated"), (Strings{"fwpar0"}));

    all_at_once("DEL", net);
    EXPECT_TRUE(nft_elements("sdnet_firewall", "ctr4").empty());
    EXPECT_TRUE(nft_elements("sdnet_firewall", "isolated_ports").empty());
}

}  // namespace
}  // namespace sdnet::test
