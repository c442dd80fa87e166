// The same config through the reference bridge (/usr/lib/cni/bridge, v1.1.1) and ours: results
// and the container's addresses and routes must agree, but for generated names and MACs.
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "netlib/fd.hpp"
#include "netlib/netns.hpp"
#include "tests/support/bridge_harness.hpp"
#include "tests/support/skip.hpp"

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

// A UDP socket bound to `addr`:`port` inside `ns` (a socket stays in the netns it was made in).
netlib::Fd udp_socket_in(const TestNetns& ns, const std::string& addr, int port) {
    netlib::NetnsGuard in{ns.ns};
    netlib::Fd fd{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0) << addr;
    return fd;
}

// Sends one datagram from the container `from` to `to`:`port`; returns the source address the
// receiver `listener` sees ("" if nothing arrived before a generous deadline).
std::string source_seen(const TestNetns& from, const netlib::Fd& listener, const std::string& to,
                        int port) {
    netlib::Fd sender = udp_socket_in(from, "0.0.0.0", 0);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, to.c_str(), &dst.sin_addr);
    EXPECT_EQ(::sendto(sender.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst), 1)
        << std::strerror(errno);
    pollfd p{listener.get(), POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) {
        return "";
    }
    char byte = 0;
    sockaddr_in src{};
    socklen_t len = sizeof src;
    (void)::recvfrom(listener.get(), &byte, 1, 0, reinterpret_cast<sockaddr*>(&src), &len);
    std::array<char, INET_ADDRSTRLEN> text{};
    return ::inet_ntop(AF_INET, &src.sin_addr, text.data(), text.size());
}

// ipMasq as a user sees it: a container's traffic to an address outside its bridge (a listener
// in another private netns, reached through the host) arrives from the host's address, with
// either plugin (the reference through iptables, ours through nftables).
TEST_F(Compat, MasqueradeHidesTheContainerFromAnOutsideListener) {
    SDNET_REQUIRE_KERNEL(KernelFeature::Nftables);
    auto outside = make_netns("outside");
    observe("ip link add out0 type veth peer name eth0 netns " + outside.name);
    observe("ip addr add 192.0.2.1/24 dev out0");
    observe("ip link set out0 up");
    observe("ip -n " + outside.name + " addr add 192.0.2.2/24 dev eth0");
    observe("ip -n " + outside.name + " link set eth0 up");
    netlib::Fd listener = udp_socket_in(outside, "192.0.2.2", 5000);

    json ours_conf = bridge_conf("1.0.0");
    ours_conf["ipMasq"] = true;
    json ref_conf = ours_conf;
    ref_conf["bridge"] = "refbr0";
    ref_conf["ipam"]["ranges"] = json::parse(R"([[{"subnet": "10.88.20.0/24"}]])");
    ref_conf["ipam"]["routes"] = json::parse(R"([{"dst": "0.0.0.0/0"}])");
    ref_conf["ipam"]["dataDir"] = "/run/cni/ref";
    auto ours_ns = make_netns("ours");
    auto ref_ns = make_netns("ref");
    // The reference runs iptables, looked up on PATH.
    auto env = [](const TestNetns& ns, const std::string& command, const std::string& dir) {
        return std::map<std::string, std::string>{
            {"CNI_COMMAND", command}, {"CNI_CONTAINERID", "ctr-" + ns.name},
            {"CNI_NETNS", ns.path},   {"CNI_IFNAME", "eth0"},
            {"CNI_PATH", dir},        {"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
    };
    auto ours = run_env(env(ours_ns, "ADD", plugin_path("")), ours_conf);
    auto ref = run_env(env(ref_ns, "ADD", "/usr/lib/cni"), ref_conf, kReference);
    ASSERT_EQ(ours.r.exit_code, 0) << ours.r.out << ours.r.err;
    ASSERT_EQ(ref.r.exit_code, 0) << ref.r.out << ref.r.err;

    EXPECT_EQ(source_seen(ref_ns, listener, "192.0.2.2", 5000), "192.0.2.1");
    EXPECT_EQ(source_seen(ours_ns, listener, "192.0.2.2", 5000), "192.0.2.1");

    EXPECT_EQ(run_env(env(ours_ns, "DEL", plugin_path("")), ours_conf).r.exit_code, 0);
    EXPECT_EQ(run_env(env(ref_ns, "DEL", "/usr/lib/cni"), ref_conf, kReference).r.exit_code, 0);
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
