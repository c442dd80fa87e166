#include "tests/nft/nft_test_util.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netlib/error.hpp"
#include "tests/support/skip.hpp"

namespace nfttest {
namespace {

std::string join(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        out += (out.empty() ? "" : " ") + a;
    }
    return out;
}

// Forks, optionally enters `netns` and redirects stdout to `out_fd`, then execs argv.
pid_t spawn(const std::vector<std::string>& argv, const netlib::Fd* netns, int out_fd) {
    pid_t pid = fork();
    netlib::check_errno(pid, "fork");
    if (pid == 0) {
        if (netns != nullptr && setns(netns->get(), CLONE_NEWNET) != 0) {
            _exit(126);
        }
        if (out_fd >= 0) {
            dup2(out_fd, STDOUT_FILENO);
        }
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    return pid;
}

int wait_for(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string render_key(const nlohmann::json& val) {
    if (val.is_string()) {
        return val.get<std::string>();
    }
    if (val.is_number()) {
        return std::to_string(val.get<long long>());
    }
    if (val.is_object() && val.contains("prefix")) {
        return val["prefix"]["addr"].get<std::string>() + "/" +
               std::to_string(val["prefix"]["len"].get<int>());
    }
    if (val.is_object() && val.contains("concat")) {
        std::string out;
        for (const auto& part : val["concat"]) {
            out += (out.empty() ? "" : " . ") + render_key(part);
        }
        return out;
    }
    return val.dump();
}

JsonElem parse_elem(const nlohmann::json& entry) {
    JsonElem e;
    const auto& key = entry.is_array() ? entry[0] : entry;  // maps: [key, data]
    if (key.is_object() && key.contains("elem")) {
        e.key = render_key(key["elem"]["val"]);
        e.comment = key["elem"].value("comment", "");
    } else {
        e.key = render_key(key);
    }
    if (entry.is_array() && entry[1].is_object() && entry[1].contains("jump")) {
        e.jump = entry[1]["jump"]["target"].get<std::string>();
    }
    return e;
}

netlib::Fd open_current_netns() {
    return netlib::Fd::open("/proc/self/ns/net", O_RDONLY);
}

}  // namespace

// Every test of this folder is about nftables.
void NetnsTest::SetUp() {
    if (unshare(CLONE_NEWNET) == 0) {
        SDNET_REQUIRE_KERNEL(sdnet::test::KernelFeature::Nftables);
        return;
    }
    std::string why = std::string("cannot create a network namespace: ") + std::strerror(errno);
    const char* require = std::getenv("SDNET_REQUIRE_NETNS");
    if (require != nullptr && std::string(require) == "1") {
        // Thrown, not FAIL(): a derived fixture must not go on in the machine's own namespace.
        throw std::runtime_error(why + " (SDNET_REQUIRE_NETNS=1)");
    }
    GTEST_SKIP() << why;
}

int run(const std::vector<std::string>& argv, const netlib::Fd* netns) {
    return wait_for(spawn(argv, netns, -1));
}

void must_run(const std::vector<std::string>& argv, const netlib::Fd* netns) {
    int status = run(argv, netns);
    ASSERT_EQ(status, 0) << join(argv);
}

std::string capture(const std::vector<std::string>& argv) {
    int fds[2];
    netlib::check_errno(pipe2(fds, O_CLOEXEC), "pipe2");
    netlib::Fd read_end{fds[0]};
    pid_t pid;
    {
        netlib::Fd write_end{fds[1]};
        pid = spawn(argv, nullptr, write_end.get());
    }
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = read(read_end.get(), buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) {
            continue;
        }
        netlib::check_errno(n, "read", join(argv));
        out.append(buf, static_cast<std::size_t>(n));
    }
    if (int status = wait_for(pid); status != 0) {
        throw std::runtime_error(join(argv) + " exited with " + std::to_string(status));
    }
    return out;
}

nlohmann::json nft_ruleset() {
    return nlohmann::json::parse(capture({"nft", "-j", "list", "ruleset"}));
}

std::optional<std::vector<JsonElem>> json_elems(const nlohmann::json& ruleset,
                                                const std::string& family, const std::string& table,
                                                const std::string& name) {
    for (const auto& item : ruleset["nftables"]) {
        for (const char* kind : {"set", "map"}) {
            if (!item.contains(kind)) {
                continue;
            }
            const auto& s = item[kind];
            if (s["family"] != family || s["table"] != table || s["name"] != name) {
                continue;
            }
            std::vector<JsonElem> out;
            for (const auto& entry : s.value("elem", nlohmann::json::array())) {
                out.push_back(parse_elem(entry));
            }
            std::sort(out.begin(), out.end());
            return out;
        }
    }
    return std::nullopt;
}

std::vector<std::string> json_chains(const nlohmann::json& ruleset, const std::string& family,
                                     const std::string& table) {
    std::vector<std::string> out;
    for (const auto& item : ruleset["nftables"]) {
        if (item.contains("chain") && item["chain"]["family"] == family &&
            item["chain"]["table"] == table) {
            out.push_back(item["chain"]["name"].get<std::string>());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool json_has_table(const nlohmann::json& ruleset, const std::string& family,
                    const std::string& table) {
    for (const auto& item : ruleset["nftables"]) {
        if (item.contains("table") && item["table"]["family"] == family &&
            item["table"]["name"] == table) {
            return true;
        }
    }
    return false;
}

netlib::Fd make_netns() {
    auto home = open_current_netns();
    netlib::check_errno(unshare(CLONE_NEWNET), "unshare", "CLONE_NEWNET");
    auto ns = open_current_netns();
    if (setns(home.get(), CLONE_NEWNET) != 0) {
        std::abort();  // the test would continue in the wrong namespace
    }
    return ns;
}

std::string netns_path(const netlib::Fd& ns) {
    return "/proc/" + std::to_string(getpid()) + "/fd/" + std::to_string(ns.get());
}

InNetns::InNetns(const netlib::Fd& ns) : home_(open_current_netns()) {
    netlib::check_errno(setns(ns.get(), CLONE_NEWNET), "setns");
}

InNetns::~InNetns() {
    if (setns(home_.get(), CLONE_NEWNET) != 0) {
        std::abort();
    }
}

void write_sysctl(const std::string& key, const std::string& value) {
    std::ofstream out("/proc/sys/" + key);
    out << value;
    out.close();
    if (!out) {
        throw std::runtime_error("cannot write /proc/sys/" + key);
    }
}

namespace {

sockaddr_storage to_sockaddr(const netlib::IpAddr& addr, std::uint16_t port, socklen_t& len) {
    sockaddr_storage ss{};
    if (addr.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        std::memcpy(&sin->sin_addr, addr.bytes().data(), 4);
        len = sizeof(sockaddr_in);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        std::memcpy(&sin6->sin6_addr, addr.bytes().data(), 16);
        len = sizeof(sockaddr_in6);
    }
    return ss;
}

netlib::IpAddr from_sockaddr(const sockaddr_storage& ss) {
    if (ss.ss_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
        return netlib::IpAddr::from_bytes(
            {reinterpret_cast<const std::uint8_t*>(&sin->sin_addr), 4});
    }
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    return netlib::IpAddr::from_bytes(
        {reinterpret_cast<const std::uint8_t*>(&sin6->sin6_addr), 16});
}

netlib::Fd udp_socket(const netlib::Fd& ns, const netlib::IpAddr& addr) {
    InNetns in(ns);
    netlib::Fd fd{socket(addr.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    netlib::check_errno(fd.get(), "socket");
    return fd;
}

}  // namespace

std::optional<netlib::IpAddr> udp_source_seen(const netlib::Fd& from, const netlib::Fd& to,
                                              const netlib::IpAddr& dst, int tries) {
    auto rx = udp_socket(to, dst);
    socklen_t len = 0;
    auto addr = to_sockaddr(dst, 0, len);
    netlib::check_errno(bind(rx.get(), reinterpret_cast<sockaddr*>(&addr), len), "bind",
                        dst.to_string());
    netlib::check_errno(getsockname(rx.get(), reinterpret_cast<sockaddr*>(&addr), &len),
                        "getsockname");
    auto tx = udp_socket(from, dst);
    for (int i = 0; i < tries; ++i) {
        // Retries cover the first datagrams waiting for neighbour resolution.
        netlib::check_errno(
            sendto(tx.get(), "probe", 5, 0, reinterpret_cast<sockaddr*>(&addr), len), "sendto",
            dst.to_string());
        pollfd pfd{rx.get(), POLLIN, 0};
        if (poll(&pfd, 1, 300) == 1) {
            sockaddr_storage src{};
            socklen_t src_len = sizeof src;
            char buf[16];
            netlib::check_errno(
                recvfrom(rx.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&src), &src_len),
                "recvfrom");
            return from_sockaddr(src);
        }
    }
    return std::nullopt;
}

}  // namespace nfttest
