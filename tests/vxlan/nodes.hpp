#pragma once

#include <string>
#include <vector>

#include "netlib/route_socket.hpp"
#include "tests/support/bridge_harness.hpp"

// Several "nodes" on one machine: each a network namespace with an underlay interface `ul0`
// (192.168.50.1N/24, fd50::1N/64), all joined by the bridge `ul` in the test's private netns.
// A plugin call made "on" a node runs in that node's namespace, as it would run on that host;
// each node keeps its IPAM state in its own directory (/var/lib/cni/node<N>).
namespace sdnet::test {

class VxlanNodes : public BridgeTest {
protected:
    static constexpr int kNodes = 3;
    static constexpr const char* kNetwork = "vxnet";
    static constexpr int kVni = 4242;

    void SetUp() override;

    // Underlay addresses of node `i`.
    static std::string underlay4(int i) { return "192.168.50.1" + std::to_string(i); }

    static std::string underlay6(int i) { return "fd50::1" + std::to_string(i); }

    // L2 mode: one subnet (10.90.0.0/24, fd90::/64), node i allocating .(10i+10)..(10i+19) with
    // gateway .(i+1); every node listed in `peers` (each skips itself).
    json l2_conf(int i, bool v6_underlay = false) const;
    // Routed mode: node i owns 10.91.(i+1).0/24 and fd91:(i+1)::/64; `peers` lists every node with
    // its subnets.
    json routed_conf(int i, bool v6_underlay = false) const;

    // A plugin call on node `i` for container `ctr`.
    Call on_node(int i, const std::string& command, const TestNetns& ctr, const json& conf,
                 const std::string& ifname = "eth0");
    json add_on(int i, const TestNetns& ctr, const json& conf);
    // GC on node `i` with an explicit list of live attachments (container netns names).
    Call gc_on(int i, json conf, const std::vector<const TestNetns*>& live);

    // The first address of `family` (4 or 6) of an ADD result, without the prefix.
    static std::string address(const json& result, int family);

    // Runs `cmd` in node i's namespace (observers: ip, bridge).
    std::string observe_on(int i, const std::string& cmd);
    json ip_on(int i, const std::string& args);
    // `bridge -j fdb show dev DEV` on node i: "mac dst" of static entries with a remote, sorted.
    std::vector<std::string> fdb_on(int i, const std::string& dev);
    // Links of node i besides lo and ul0.
    std::vector<std::string> extra_links_on(int i);
    // Reservation files of node i's host-local store.
    std::vector<std::string> reservations_on(int i);

    // A TCP connection from `client` to `addr`:5000 where `server` listens: what the client
    // received ("hello" when it works, "" when no connection was made).
    std::string tcp_exchange(const TestNetns& server, const TestNetns& client,
                             const std::string& addr);

    std::vector<TestNetns> nodes_;
};

}  // namespace sdnet::test
