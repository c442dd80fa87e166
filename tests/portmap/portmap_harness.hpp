#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "netlib/fd.hpp"
#include "tests/support/bridge_harness.hpp"

namespace sdnet::test {

enum class Proto { Tcp, Udp };

// A listening TCP or bound UDP socket in a namespace; answers each exchange with `name`.
struct Server {
    Proto proto;
    std::string name;
    netlib::Fd fd;
};

// What one exchange saw: the client got the server's reply, and the server saw `peer` as the
// client's address.
struct Exchange {
    bool ok = false;
    std::string peer;   // address only
    std::string error;  // why not ok

    explicit operator bool() const { return ok; }
};

// `ns` nullptr means the test's own (host) namespace. `addr` "0.0.0.0" or "::" for any.
Server serve(Proto proto, const TestNetns* ns, const std::string& addr, std::uint16_t port,
             const std::string& name);

// From `client_ns`, sends a request to dst:port and waits (2 s at most, no sleeps: poll on the
// sockets) for `server` to get it and the reply to come back. UDP clients may bind a source
// port, to reuse a conntrack entry.
Exchange exchange(const TestNetns* client_ns, Server& server, const std::string& dst,
                  std::uint16_t port, std::optional<std::uint16_t> src_port = {});

// Sends one SCTP INIT (an association's first packet) from `client_ns` (nullptr: the test's
// own) to IPv4 dst:port and returns the destination port it reached `server_ns` with, or
// nullopt if it did not arrive within 2 s. Raw sockets on both ends: this kernel has no SCTP
// sockets (CONFIG_IP_SCTP is off), but conntrack and NAT handle SCTP without them.
std::optional<std::uint16_t> sctp_init_arrives(const TestNetns* client_ns,
                                               const TestNetns& server_ns, const std::string& dst,
                                               std::uint16_t port);

// True if a connection or datagram is waiting on `server` (nothing is consumed for TCP).
bool pending(const Server& server);

// The bridge and portmap plugins, run as a runtime runs a chain.
class PortmapHarness : public BridgeTest {
protected:
    // The bridge network of conf/10-sdnet-bridge.conflist (10.88.10.0/24, fd88:10::/64, bridge
    // sdnet0), ADDed for `ns`; returns the result.
    json attach(const TestNetns& ns);
    // A portmap config chained after `prev` with runtimeConfig.portMappings = `mappings`;
    // `extra` keys are merged in. A null `prev` leaves prevResult out.
    json portmap_conf(const json& prev, const json& mappings, const json& extra = json::object(),
                      const std::string& version = "1.0.0");
    Call portmap(const std::string& command, const TestNetns& ns, const json& conf,
                 const std::string& binary = "");
    // ADD that must succeed; returns the plugin's output.
    json publish(const TestNetns& ns, const json& prev, const json& mappings,
                 const json& extra = json::object());
    // Elements of a map of table inet sdnet_portmap, as `nft -j` prints their keys.
    std::vector<std::string> elements(const std::string& map);
};

// What nearly every portmap test needs: nftables, which is what the plugin programs.
class PortmapTest : public PortmapHarness {
protected:
    void SetUp() override;
};

// Two containers, c1 (10.88.10.2) and c2 (10.88.10.3), on the bridge network.
class TwoContainerTest : public PortmapTest {
protected:
    void SetUp() override;

    std::optional<TestNetns> c1_, c2_;
    json r1_, r2_;  // their bridge results
};

// {"hostPort": h, "containerPort": c, "protocol": p} (+ "hostIP").
json mapping(int host, int container, const std::string& proto = "tcp",
             const std::string& host_ip = "");

}  // namespace sdnet::test
