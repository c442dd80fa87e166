// KERNEL TEST (ctest label "kernel"): real traffic through the limits. iperf3 between the
// private host namespace and a container at 10 Mbit/s each way; the rate iperf3 measures must
// be within 15% of the configured one. Each run is preceded by a 1 s warm-up (-O 1, which also
// leaves the initial burst out of the figure) and lasts 2 s: ~6.5 s per TEST, ~13 s for both.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netlib/addr.hpp"
#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"
#include "tests/bandwidth/bandwidth_harness.hpp"
#include "tests/support/eventually.hpp"

namespace sdnet::test {
namespace {

constexpr std::uint64_t kRate = 10'000'000;  // bits/s, each way
constexpr std::uint64_t kBurst = 800'000;    // bits: 100 kB, 80 ms of tokens at the rate
constexpr int kPort = 5201;

// "0A0B0C0D:1451" as /proc/net/tcp spells 13.12.11.10:5201 (address in host byte order).
std::string proc_tcp_local(const std::string& ipv4, int port) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    std::sscanf(ipv4.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02X%02X%02X%02X:%04X", d, c, b, a, port);
    return buf;
}

// True once a socket of this namespace listens on ipv4:port. Read from /proc rather than by
// connecting: a probe connection would be the one client an `iperf3 --one-off` server serves.
bool listening(const std::string& ipv4, int port) {
    std::ifstream tcp("/proc/net/tcp");
    std::string line;
    std::string local = proc_tcp_local(ipv4, port);
    while (std::getline(tcp, line)) {
        if (line.find(local + " 00000000:0000 0A") != std::string::npos) {
            return true;
        }
    }
    return false;
}

// An `iperf3 --one-off` server in the test's (host) namespace.
class Iperf3Server {
public:
    explicit Iperf3Server(const std::string& bind) {
        pid_ = ::fork();
        if (pid_ == 0) {
            int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, 1);
            ::dup2(null, 2);
            std::string port = std::to_string(kPort);
            ::execlp("iperf3", "iperf3", "-s", "--one-off", "-B", bind.c_str(), "-p", port.c_str(),
                     static_cast<char*>(nullptr));
            ::_exit(127);
        }
        EXPECT_TRUE(sdnet::test::eventually([&] { return listening(bind, kPort); }))
            << "iperf3 server did not start";
    }

    Iperf3Server(const Iperf3Server&) = delete;
    Iperf3Server& operator=(const Iperf3Server&) = delete;

    ~Iperf3Server() {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == 0) {
            ::kill(pid_, SIGTERM);  // the client failed: the server still waits
            ::waitpid(pid_, &status, 0);
        }
    }

private:
    pid_t pid_ = -1;
};

// Bits per second the receiver saw, from a client in netns `ns` to `server` (reverse: from
// the server to the client).
double measure(const std::string& ns, const std::string& server, bool reverse, int seconds) {
    Iperf3Server srv{server};
    std::string cmd = "ip netns exec " + ns + " iperf3 -J -O 1 -t " + std::to_string(seconds) +
                      " -c " + server + " -p " + std::to_string(kPort) + (reverse ? " -R" : "");
    json out = json::parse(observe(cmd));
    return out["end"]["sum_received"]["bits_per_second"].get<double>();
}

void expect_near_rate(double measured, const char* direction) {
    std::printf("%s: %.2f Mbit/s measured, %.2f configured\n", direction, measured / 1e6,
                double(kRate) / 1e6);
    EXPECT_GT(measured, 0.85 * double(kRate)) << direction;
    EXPECT_LT(measured, 1.15 * double(kRate)) << direction;
}

class Accuracy : public BandwidthTest {
protected:
    void SetUp() override {
        if (!std::filesystem::exists("/usr/bin/iperf3")) {
            GTEST_SKIP() << "iperf3 is not installed";
        }
        BandwidthTest::SetUp();
    }
};

TEST_F(Accuracy, BridgeContainerGetsTenMbitEachWay) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    auto r = bandwidth("ADD", c1, bandwidth_conf(kRate, kBurst, kRate, kBurst), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    std::string gateway = prev["ips"][0]["gateway"];

    expect_near_rate(measure(c1.name, gateway, false, 2), "container egress (veth -> ifb tbf)");
    expect_near_rate(measure(c1.name, gateway, true, 2), "container ingress (host veth tbf)");
}

// No host veth: a macvlan on a veth end of the host, shaped inside the container. The host
// talks to it through the other end of that veth.
TEST_F(Accuracy, MacvlanContainerGetsTenMbitEachWay) {
    auto c1 = make_netns("c1");
    auto host = netlib::RouteSocket::open();
    netlib::VethSpec parent;
    parent.host_name = "mvparent";
    parent.peer_name = "mvpeer";
    auto veth = netlib::create_veth(host, parent);
    netlib::MacvlanSpec spec;
    spec.name = "eth0";
    spec.master = veth.index;
    spec.netns = &c1.ns;
    spec.up = true;
    auto mv = netlib::create_macvlan(host, spec);
    netlib::add_address(host, netlib::find_link(host, "mvpeer")->index,
                        netlib::IpNet::parse("10.99.0.1/24"));
    auto ctr = netlib::RouteSocket::open_in(c1.ns);
    netlib::add_address(ctr, mv.index, netlib::IpNet::parse("10.99.0.2/24"));
    json prev = {{"cniVersion", "1.0.0"},
                 {"interfaces", {{{"name", "eth0"}, {"sandbox", c1.path}}}},
                 {"ips", json::array()}};
    auto r = bandwidth("ADD", c1, bandwidth_conf(kRate, kBurst, kRate, kBurst), prev);
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;

    expect_near_rate(measure(c1.name, "10.99.0.1", false, 2), "container egress (macvlan tbf)");
    expect_near_rate(measure(c1.name, "10.99.0.1", true, 2), "container ingress (in-netns ifb)");
}

}  // namespace
}  // namespace sdnet::test
