// sdnet against real plugins in the fixture's private network and mount namespaces: /run/netns,
// /var/lib/cni and /run/cni are private tmpfs, so the default cache and lease locations are
// exercised without touching the machine. Each test runs once with our plugins (from the build
// tree) and once with the reference plugins (Debian's containernetworking-plugins, /usr/lib/cni),
// skipping a set whose plugins are not there.
#include "netlib/netns.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netlib/addr.hpp"
#include "netlib/fd.hpp"
#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"
#include "netlib/tc.hpp"
#include "runtime/libcni/attachment_id.hpp"
#include "runtime/libcni/cache.hpp"
#include "tests/support/fake_plugins.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/skip.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sdnet::test::Outcome;
using sdnet::test::read_file;
using sdnet::test::TempDir;
using sdnet::test::write_file;

struct PluginSet {
    std::string name;
    std::string dir;
};

// For gtest's test names and messages (instead of a byte dump).
void PrintTo(const PluginSet& p, std::ostream* os) {
    *os << p.name << " (" << p.dir << ")";
}

const char* kBridgeList = R"({"cniVersion":"1.0.0","name":"br","plugins":[{"type":"bridge",
  "bridge":"sdt0","isGateway":true,"ipam":{"type":"host-local",
  "ranges":[[{"subnet":"10.77.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}}]})";

const fs::path kLeases = "/var/lib/cni/networks/br";

class SdnetNetns : public sdnet::test::NetnsTest, public ::testing::WithParamInterface<PluginSet> {
protected:
    TempDir tmp_;
    fs::path conf_ = tmp_ / "net.d";
    std::string plugin_path_ = GetParam().dir;

    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        write_file(conf_ / "10-br.conflist", kBridgeList);
        write_file(conf_ / "00-loopback.conflist",
                   read_file(fs::path{SDNET_SOURCE_DIR} / "conf/00-loopback.conflist"));
    }

    // Skips the test unless every plugin is in the set's directory.
    bool have(std::initializer_list<const char*> plugins) const {
        for (const char* p : plugins) {
            if (::access((fs::path{GetParam().dir} / p).c_str(), X_OK) != 0) {
                return false;
            }
        }
        return true;
    }

    Outcome sdnet(std::vector<std::string> args) const {
        args.insert(args.begin(),
                    {SDNET_EXE, "--conf-dir", conf_.string(), "--plugin-dir", plugin_path_});
        return sdnet::test::run_process(args);
    }

    static std::optional<netlib::LinkInfo> link_in(const std::string& netns,
                                                   const std::string& name) {
        auto sock = netlib::RouteSocket::open_in(netlib::Netns::open(netns));
        return netlib::find_link(sock, name);
    }

    static std::vector<std::string> addresses_in(const std::string& netns,
                                                 const std::string& name) {
        auto sock = netlib::RouteSocket::open_in(netlib::Netns::open(netns));
        std::vector<std::string> out;
        if (auto l = netlib::find_link(sock, name)) {
            for (const auto& a : netlib::list_addresses(sock, l->index, netlib::Family::V4)) {
                out.push_back(a.to_string());
            }
        }
        return out;
    }

    // host-local's reservations: one file per IP in its data dir.
    static std::vector<std::string> leases() {
        std::vector<std::string> out;
        std::error_code ec;
        for (fs::directory_iterator it(kLeases, ec), end; !ec && it != end; it.increment(ec)) {
            auto name = it->path().filename().string();
            if (netlib::IpAddr::try_parse(name)) {
                out.push_back(name);
            }
        }
        return out;
    }

    static fs::path cache_file(const std::string& net, const std::string& netns,
                               const std::string& ifname) {
        return libcni::ResultCache("/var/lib/cni")
            .path_for(net, libcni::derive_container_id(netns), ifname);
    }
};

#define REQUIRE_PLUGINS(...)                                                               \
    do {                                                                                   \
        if (!have({__VA_ARGS__})) {                                                        \
            GTEST_SKIP() << GetParam().name << " plugins not found in " << GetParam().dir; \
        }                                                                                  \
    } while (0)

// A TCP listener on every address of `netns` (a socket stays in the netns it was made in).
netlib::Fd listen_in(const std::string& netns, std::uint16_t port) {
    netlib::NetnsGuard in{netlib::Netns::open(netns)};
    netlib::Fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(fd.get(), 8) != 0) {
        ADD_FAILURE() << "listen on port " << port << " in " << netns << ": " << strerror(errno);
    }
    return fd;
}

// Connects from this (the host) netns to addr:port and reports whether `listener` got the
// connection; gives up after two seconds either way.
bool reaches(const std::string& addr, std::uint16_t port, const netlib::Fd& listener) {
    netlib::Fd client{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ::inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
    (void)::connect(client.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    pollfd p{listener.get(), POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) {
        return false;
    }
    netlib::Fd accepted{::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC)};
    return accepted.get() >= 0;
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};

    return ::stat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

TEST_P(SdnetNetns, LoopbackAttachCheckDetachAndTheCacheFile) {
    REQUIRE_PLUGINS("loopback");
    auto ns = make_netns("lo");
    ASSERT_FALSE(link_in(ns.path, "lo")->up);
    auto r = sdnet({"attach", "lo", ns.name, "--ifname", "lo", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(link_in(ns.path, "lo")->up);

    // The cache entry, field by field, as libcni writes it (libcni/api.go cachedInfo).
    auto file = cache_file("lo", ns.path, "lo");
    EXPECT_EQ(file.parent_path(), "/var/lib/cni/results");
    EXPECT_EQ(mode_of(file), 0600u);
    EXPECT_EQ(mode_of(file.parent_path()), 0700u);
    json j = json::parse(read_file(file));
    EXPECT_EQ(j["kind"], "cniCacheV1");
    EXPECT_EQ(j["containerId"], libcni::derive_container_id(ns.path));
    EXPECT_EQ(libcni::base64_decode(j["config"].get<std::string>()),
              read_file(conf_ / "00-loopback.conflist"));
    EXPECT_EQ(j["ifName"], "lo");
    EXPECT_EQ(j["networkName"], "lo");
    EXPECT_EQ(j["netns"], ns.path);
    EXPECT_FALSE(j.contains("cniArgs"));         // omitempty, as Go writes it
    EXPECT_FALSE(j.contains("capabilityArgs"));  // omitempty
    EXPECT_EQ(j["result"], json::parse(r.out));
    EXPECT_EQ(j.size(), 7u);

    r = sdnet({"check", "lo", ns.name, "--ifname", "lo"});
    EXPECT_EQ(r.status, 0) << r.err;
    r = sdnet({"detach", "lo", ns.name, "--ifname", "lo"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_FALSE(link_in(ns.path, "lo")->up);
    EXPECT_FALSE(fs::exists(file));
}

TEST_P(SdnetNetns, BridgeAttachCheckShowDetach) {
    REQUIRE_PLUGINS("bridge", "host-local");
    auto ns = make_netns("ctr");
    auto r = sdnet({"attach", "br", ns.path});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("10.77.0.2/24  gateway 10.77.0.1"), std::string::npos) << r.out;
    EXPECT_EQ(addresses_in(ns.path, "eth0"), std::vector<std::string>{"10.77.0.2/24"});
    EXPECT_EQ(leases(), std::vector<std::string>{"10.77.0.2"});
    auto sock = netlib::RouteSocket::open();
    auto bridge = netlib::find_link(sock, "sdt0");
    ASSERT_TRUE(bridge);
    EXPECT_EQ(bridge->kind, "bridge");

    r = sdnet({"show", "br", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto shown = json::parse(r.out).at(0);
    EXPECT_EQ(shown["bridges"][0]["name"], "sdt0");
    EXPECT_EQ(shown["bridges"][0]["addresses"][0], "10.77.0.1/24");
    auto attachment = shown["attachments"][0];
    EXPECT_EQ(attachment["netns"], ns.path);
    EXPECT_EQ(attachment["interface"]["addresses"][0], "10.77.0.2/24");
    EXPECT_EQ(attachment["hostInterface"]["master"], bridge->index);
    EXPECT_EQ(attachment["hostInterface"]["kind"], "veth");
    r = sdnet({"show"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("bridge sdt0"), std::string::npos) << r.out;
    EXPECT_EQ(sdnet({"show", "--dot"}).status, 0);

    r = sdnet({"check", "br", ns.path});
    EXPECT_EQ(r.status, 0) << r.err;
    r = sdnet({"detach", "br", ns.path});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_FALSE(link_in(ns.path, "eth0"));
    EXPECT_TRUE(leases().empty());
    EXPECT_FALSE(fs::exists(cache_file("br", ns.path, "eth0")));
}

TEST_P(SdnetNetns, GcReleasesTheAttachmentOfAVanishedNetns) {
    REQUIRE_PLUGINS("bridge", "host-local");
    auto live = make_netns("live");
    auto gone = make_netns("gone");
    ASSERT_EQ(sdnet({"attach", "br", live.path}).status, 0);
    auto r = sdnet({"attach", "br", gone.path});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(leases().size(), 2u);
    { auto drop = std::move(gone.ns); }
    ASSERT_TRUE(netlib::remove_named_netns(gone.name));

    r = sdnet({"gc", "br", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = json::parse(r.out);
    ASSERT_EQ(j["deleted"].size(), 1u);
    EXPECT_EQ(j["deleted"][0]["netns"], gone.path);
    EXPECT_EQ(j["kept"][0]["netns"], live.path);
    EXPECT_EQ(leases(), std::vector<std::string>{"10.77.0.2"});
    EXPECT_FALSE(fs::exists(cache_file("br", gone.path, "eth0")));
    EXPECT_TRUE(fs::exists(cache_file("br", live.path, "eth0")));
}

TEST_P(SdnetNetns, DetachWithCorruptCacheStillReleasesEverything) {
    REQUIRE_PLUGINS("bridge", "host-local");
    auto ns = make_netns("ctr");
    ASSERT_EQ(sdnet({"attach", "br", ns.path}).status, 0);
    write_file(cache_file("br", ns.path, "eth0"), "{\"kind\": \"cniCacheV1\", garbage");
    auto r = sdnet({"detach", "br", ns.path});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_FALSE(link_in(ns.path, "eth0"));
    EXPECT_TRUE(leases().empty());
    EXPECT_FALSE(fs::exists(cache_file("br", ns.path, "eth0")));
}

TEST_P(SdnetNetns, FailingPluginInTheChainIsRolledBack) {
    REQUIRE_PLUGINS("bridge", "host-local");
    write_file(tmp_ / "bin/failer",
               "#!/bin/sh\n"
               "if [ \"$CNI_COMMAND\" = VERSION ]; then\n"
               "  echo '{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"1.0.0\"]}'\n"
               "fi\n"
               "[ \"$CNI_COMMAND\" = ADD ] || exit 0\n"
               "echo '{\"code\":100,\"msg\":\"failer always fails\"}'\n"
               "exit 1\n",
               fs::perms{0755});
    write_file(conf_ / "20-failing.conflist",
               R"({"cniVersion":"1.0.0","name":"failing","plugins":[)" +
                   json::parse(kBridgeList)["plugins"][0].dump() + R"(,{"type":"failer"}]})");
    plugin_path_ = (tmp_ / "bin").string() + ":" + GetParam().dir;
    auto ns = make_netns("ctr");
    auto r = sdnet({"attach", "failing", ns.path});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err_lines(), 1u) << r.err;
    EXPECT_NE(r.err.find("plugin \"failer\" failed (ADD): failer always fails"), std::string::npos)
        << r.err;
    EXPECT_FALSE(link_in(ns.path, "eth0"));  // the bridge plugin got DEL
    EXPECT_TRUE(leases().empty());
    EXPECT_FALSE(fs::exists(cache_file("failing", ns.path, "eth0")));
}

// The example network shipped in conf/ (bridge, portmap, firewall, tuning, bandwidth), as the
// README uses it: a published port reached from the host through the gateway address and
// through 127.0.0.1, then nothing left after detach.
TEST_P(SdnetNetns, ShippedBridgeConflistPublishesAPort) {
    SDNET_REQUIRE_KERNEL(sdnet::test::KernelFeature::Nftables);  // masquerade, ports, firewall
    REQUIRE_PLUGINS("bridge", "host-local", "portmap", "firewall", "tuning", "bandwidth");
    write_file(conf_ / "10-sdnet-bridge.conflist",
               read_file(fs::path{SDNET_SOURCE_DIR} / "conf/10-sdnet-bridge.conflist"));
    auto ns = make_netns("web");
    auto r = sdnet({"attach", "sdnet-bridge", ns.path, "-p", "18080:80"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto listener = listen_in(ns.path, 80);
    EXPECT_TRUE(reaches("10.88.10.1", 18080, listener));
    EXPECT_TRUE(reaches("127.0.0.1", 18080, listener));
    EXPECT_FALSE(reaches("127.0.0.1", 18081, listener));  // only the published port

    // The reference portmap (v1.1.1) fails CHECK on a dual-stack network: it looks for the IPv4
    // rules in its IPv6 chain ("could not check ipv6 dnat").
    if (GetParam().name != "reference") {
        r = sdnet({"check", "sdnet-bridge", ns.path});
        EXPECT_EQ(r.status, 0) << r.err;
    }
    r = sdnet({"detach", "sdnet-bridge", ns.path});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_FALSE(link_in(ns.path, "eth0"));
    EXPECT_FALSE(reaches("127.0.0.1", 18080, listener));
    EXPECT_FALSE(fs::exists(cache_file("sdnet-bridge", ns.path, "eth0")));
}

// What a Kubernetes bandwidth annotation becomes: containerd 1.6 sends a burst of MaxUint32 bits
// (pkg/cri toCNIBandWidth), CRI-O MaxUint32*8-1, whatever the rate. Attach must shape (the burst
// clamped to the largest bucket a tbf holds) and detach must leave nothing, as the chain's DELs
// all run only when bandwidth's succeeds.
TEST_P(SdnetNetns, KubernetesBandwidthBurstsAttachAndDetach) {
    REQUIRE_PLUGINS("bridge", "host-local", "bandwidth");
    write_file(conf_ / "20-bw.conflist", R"({"cniVersion":"1.0.0","name":"bw","plugins":[
      {"type":"bridge","bridge":"sdt1","ipam":{"type":"host-local",
       "ranges":[[{"subnet":"10.78.0.0/24"}]]}},
      {"type":"bandwidth","capabilities":{"bandwidth":true}}]})");
    auto ns = make_netns("pod");
    auto r = sdnet({"attach", "bw", ns.path, "--json", "--ingress-rate", "10M", "--ingress-burst",
                    "4294967295", "--egress-rate", "10M", "--egress-burst", "34359738359"});
    ASSERT_EQ(r.status, 0) << r.err;
    json result = json::parse(r.out);
    std::string veth = result["interfaces"][1]["name"];
    std::string ifb = result["interfaces"].back()["name"];
    auto sock = netlib::RouteSocket::open();
    for (const std::string& dev : {veth, ifb}) {
        auto link = netlib::find_link(sock, dev);
        ASSERT_TRUE(link) << dev;
        auto q = netlib::find_root_qdisc(sock, link->index);
        ASSERT_TRUE(q && q->tbf) << dev;
        EXPECT_EQ(q->tbf->rate, 1'250'000u) << dev;
        // The reference v1.1.1 programs whatever its 32-bit conversion of the bucket time
        // gives; ours the largest bucket: 2^32-1 ticks (274.9 s) at most.
        if (GetParam().name != "reference") {
            EXPECT_GT(q->tbf->buffer, 4'294'000'000u) << dev;
        }
    }

    ASSERT_TRUE(fs::exists("/var/lib/cni/networks/bw/10.78.0.2"));

    r = sdnet({"detach", "bw", ns.path});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_FALSE(link_in(ns.path, "eth0"));
    EXPECT_FALSE(netlib::find_link(sock, ifb));
    EXPECT_FALSE(fs::exists(cache_file("bw", ns.path, "eth0")));
    EXPECT_FALSE(fs::exists("/var/lib/cni/networks/bw/10.78.0.2")) << "the lease is left";
}

INSTANTIATE_TEST_SUITE_P(Plugins, SdnetNetns,
                         ::testing::Values(PluginSet{"sdnet", SDNET_BUILD_DIR "/cni"},
                                           PluginSet{"reference", "/usr/lib/cni"}),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
