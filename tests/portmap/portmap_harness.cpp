#include "tests/portmap/portmap_harness.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlib/netns.hpp"
#include "tests/support/skip.hpp"

namespace sdnet::test {
namespace {

constexpr int kTimeoutMs = 2000;

struct SockAddr {
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family = AF_INET;
};

SockAddr sock_addr(const std::string& addr, std::uint16_t port) {
    SockAddr a;
    if (addr.find(':') != std::string::npos) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        inet_pton(AF_INET6, addr.c_str(), &s6->sin6_addr);
        a.len = sizeof(sockaddr_in6);
        a.family = AF_INET6;
    } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&a.ss);
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        inet_pton(AF_INET, addr.c_str(), &s4->sin_addr);
        a.len = sizeof(sockaddr_in);
    }
    return a;
}

std::string addr_text(const sockaddr_storage& ss) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf,
                  sizeof buf);
    } else {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
    }
    return buf;
}

// A socket created inside `ns`: it stays bound to that namespace.
netlib::Fd socket_in(const TestNetns* ns, int family, int type, int protocol = 0) {
    auto make = [&] {
        return netlib::Fd(::socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol));
    };
    if (ns == nullptr) {
        return make();
    }
    netlib::NetnsGuard in{ns->ns};
    return make();
}

bool wait_for(int fd, short events) {
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, kTimeoutMs) == 1 && (p.revents & events) != 0;
}

bool send_all(int fd, const std::string& text) {
    return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

std::string recv_some(int fd) {
    char buf[256];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

Exchange fail(std::string why) {
    Exchange e;
    e.error = std::move(why);
    return e;
}

Exchange tcp_exchange(netlib::Fd client, Server& server, const SockAddr& dst) {
    int rc = ::connect(client.get(), reinterpret_cast<const sockaddr*>(&dst.ss), dst.len);
    if (rc != 0 && errno != EINPROGRESS) {
        return fail(std::string("connect: ") + std::strerror(errno));
    }
    if (!wait_for(server.fd.get(), POLLIN)) {
        return fail("no connection reached server " + server.name);
    }
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    netlib::Fd conn(::accept4(server.fd.get(), reinterpret_cast<sockaddr*>(&peer), &len,
                              SOCK_CLOEXEC | SOCK_NONBLOCK));
    int err = 0;
    socklen_t errlen = sizeof err;
    if (!conn || !wait_for(client.get(), POLLOUT) ||
        ::getsockopt(client.get(), SOL_SOCKET, SO_ERROR, &err, &errlen) != 0 || err != 0) {
        return fail("handshake failed");
    }
    if (!send_all(client.get(), "ping") || !wait_for(conn.get(), POLLIN) ||
        recv_some(conn.get()) != "ping" || !send_all(conn.get(), server.name) ||
        !wait_for(client.get(), POLLIN) || recv_some(client.get()) != server.name) {
        return fail("request or reply lost");
    }
    return {true, addr_text(peer), {}};
}

Exchange udp_exchange(netlib::Fd client, Server& server, const SockAddr& dst) {
    if (::sendto(client.get(), "ping", 4, 0, reinterpret_cast<const sockaddr*>(&dst.ss), dst.len) !=
        4) {
        return fail(std::string("sendto: ") + std::strerror(errno));
    }
    if (!wait_for(server.fd.get(), POLLIN)) {
        return fail("no datagram reached server " + server.name);
    }
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    char buf[64];
    if (::recvfrom(server.fd.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len) !=
            4 ||
        ::sendto(server.fd.get(), server.name.data(), server.name.size(), 0,
                 reinterpret_cast<const sockaddr*>(&peer), len) < 0 ||
        !wait_for(client.get(), POLLIN) || recv_some(client.get()) != server.name) {
        return fail("request or reply lost");
    }
    return {true, addr_text(peer), {}};
}

// CRC32c (Castagnoli, reflected), the SCTP checksum (RFC 9260 appendix A).
std::uint32_t crc32c(const unsigned char* data, std::size_t len) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < len; ++i) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

void put16(unsigned char* p, std::uint16_t v) {
    p[0] = static_cast<unsigned char>(v >> 8);
    p[1] = static_cast<unsigned char>(v);
}

void put32(unsigned char* p, std::uint32_t v) {
    put16(p, static_cast<std::uint16_t>(v >> 16));
    put16(p + 2, static_cast<std::uint16_t>(v));
}

// An SCTP packet with one INIT chunk, which conntrack accepts as a new association.
std::vector<unsigned char> sctp_init(std::uint16_t src_port, std::uint16_t dst_port) {
    std::vector<unsigned char> pkt(12 + 20, 0);
    put16(&pkt[0], src_port);
    put16(&pkt[2], dst_port);
    // verification tag 0 (pkt[4..7]) and checksum (pkt[8..11]) filled in below
    pkt[12] = 1;  // INIT
    put16(&pkt[14], 20);
    put32(&pkt[16], 0x5d5d0001);  // initiate tag
    put32(&pkt[20], 65536);       // a_rwnd
    put16(&pkt[24], 1);           // outbound streams
    put16(&pkt[26], 1);           // inbound streams
    put32(&pkt[28], 1);           // initial TSN
    std::uint32_t crc = crc32c(pkt.data(), pkt.size());
    for (int i = 0; i < 4; ++i) {
        pkt[8 + static_cast<std::size_t>(i)] = static_cast<unsigned char>(crc >> (8 * i));
    }
    return pkt;
}

}  // namespace

std::optional<std::uint16_t> sctp_init_arrives(const TestNetns* client_ns,
                                               const TestNetns& server_ns, const std::string& dst,
                                               std::uint16_t port) {
    constexpr std::uint16_t kSrcPort = 40999;
    auto rx = socket_in(&server_ns, AF_INET, SOCK_RAW, IPPROTO_SCTP);
    auto tx = socket_in(client_ns, AF_INET, SOCK_RAW, IPPROTO_SCTP);
    EXPECT_TRUE(rx.valid() && tx.valid()) << std::strerror(errno);
    auto pkt = sctp_init(kSrcPort, port);
    auto to = sock_addr(dst, 0);
    if (::sendto(tx.get(), pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to.ss),
                 to.len) != static_cast<ssize_t>(pkt.size())) {
        ADD_FAILURE() << "send SCTP INIT: " << std::strerror(errno);
        return std::nullopt;
    }
    // Raw sockets see every SCTP packet of the namespace: wait for ours.
    unsigned char buf[1500];
    while (wait_for(rx.get(), POLLIN)) {
        ssize_t n = ::recv(rx.get(), buf, sizeof buf, 0);
        std::size_t ihl = n > 0 ? std::size_t{4} * (buf[0] & 0x0f) : 0;
        if (n < 0 || static_cast<std::size_t>(n) < ihl + 13) {
            continue;
        }
        const unsigned char* sctp = buf + ihl;
        if (((sctp[0] << 8) | sctp[1]) == kSrcPort && sctp[12] == 1) {
            return static_cast<std::uint16_t>((sctp[2] << 8) | sctp[3]);
        }
    }
    return std::nullopt;
}

Server serve(Proto proto, const TestNetns* ns, const std::string& addr, std::uint16_t port,
             const std::string& name) {
    auto a = sock_addr(addr, port);
    Server s{proto, name, socket_in(ns, a.family, proto == Proto::Tcp ? SOCK_STREAM : SOCK_DGRAM)};
    int one = 1;
    ::setsockopt(s.fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (a.family == AF_INET6) {
        ::setsockopt(s.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    EXPECT_EQ(::bind(s.fd.get(), reinterpret_cast<sockaddr*>(&a.ss), a.len), 0)
        << name << ": bind " << addr << ":" << port << ": " << std::strerror(errno);
    if (proto == Proto::Tcp) {
        EXPECT_EQ(::listen(s.fd.get(), 16), 0) << std::strerror(errno);
    }
    return s;
}

Exchange exchange(const TestNetns* client_ns, Server& server, const std::string& dst,
                  std::uint16_t port, std::optional<std::uint16_t> src_port) {
    auto d = sock_addr(dst, port);
    auto client =
        socket_in(client_ns, d.family, server.proto == Proto::Tcp ? SOCK_STREAM : SOCK_DGRAM);
    if (src_port) {
        int one = 1;
        ::setsockopt(client.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        auto src = sock_addr(d.family == AF_INET6 ? "::" : "0.0.0.0", *src_port);
        if (::bind(client.get(), reinterpret_cast<sockaddr*>(&src.ss), src.len) != 0) {
            return fail(std::string("bind source port: ") + std::strerror(errno));
        }
    }
    return server.proto == Proto::Tcp ? tcp_exchange(std::move(client), server, d)
                                      : udp_exchange(std::move(client), server, d);
}

bool pending(const Server& server) {
    pollfd p{server.fd.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

json PortmapHarness::attach(const TestNetns& ns) {
    return add(ns, bridge_conf());
}

json PortmapHarness::portmap_conf(const json& prev, const json& mappings, const json& extra,
                                  const std::string& version) {
    json conf = {{"cniVersion", version}, {"name", "sdnet-bridge"}, {"type", "portmap"}};
    if (!prev.is_null()) {
        conf["prevResult"] = prev;
    }
    if (!mappings.is_null()) {
        conf["runtimeConfig"] = {{"portMappings", mappings}};
    }
    if (extra.is_object()) {
        conf.update(extra);
    }
    return conf;
}

BridgeTest::Call PortmapHarness::portmap(const std::string& command, const TestNetns& ns,
                                         const json& conf, const std::string& binary) {
    return run(command, ns, conf, "eth0", binary.empty() ? plugin_path("portmap") : binary);
}

json PortmapHarness::publish(const TestNetns& ns, const json& prev, const json& mappings,
                             const json& extra) {
    auto c = portmap("ADD", ns, portmap_conf(prev, mappings, extra));
    EXPECT_EQ(c.r.exit_code, 0) << c.r.out << c.r.err;
    return c.out;
}

std::vector<std::string> PortmapHarness::elements(const std::string& map) {
    return nft_elements("sdnet_portmap", map);
}

void PortmapTest::SetUp() {
    PortmapHarness::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
        return;
    }
    SDNET_REQUIRE_KERNEL(KernelFeature::Nftables);
}

void TwoContainerTest::SetUp() {
    PortmapTest::SetUp();
    if (IsSkipped()) {
        return;
    }
    c1_.emplace(make_netns("c1"));
    c2_.emplace(make_netns("c2"));
    r1_ = attach(*c1_);
    r2_ = attach(*c2_);
    ASSERT_EQ(r1_["ips"][0]["address"], "10.88.10.2/24");
    ASSERT_EQ(r2_["ips"][0]["address"], "10.88.10.3/24");
}

json mapping(int host, int container, const std::string& proto, const std::string& host_ip) {
    json m = {{"hostPort", host}, {"containerPort", container}, {"protocol", proto}};
    if (!host_ip.empty()) {
        m["hostIP"] = host_ip;
    }
    return m;
}

}  // namespace sdnet::test
