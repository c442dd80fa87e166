#include "tests/support/netns_fixture.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"

namespace sdnet::test {
namespace {

bool netns_required() {
    const char* v = std::getenv("SDNET_REQUIRE_NETNS");  // NOLINT(concurrency-mt-unsafe)
    return v != nullptr && std::string{v} == "1";
}

void private_tmpfs(const char* dir) {
    std::filesystem::create_directories(dir);
    netlib::check_errno(::mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"),
                        "mount tmpfs", dir);
}

struct Pipe {
    int rd = -1;
    int wr = -1;

    Pipe() {
        std::array<int, 2> fds{};
        netlib::check_errno(::pipe2(fds.data(), O_CLOEXEC), "pipe2");
        rd = fds[0];
        wr = fds[1];
    }

    ~Pipe() {
        close_rd();
        close_wr();
    }

    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;

    void close_rd() {
        if (rd >= 0) {
            ::close(rd);
            rd = -1;
        }
    }

    void close_wr() {
        if (wr >= 0) {
            ::close(wr);
            wr = -1;
        }
    }
};

// Reads stdout and stderr together so a chatty child cannot block on a full pipe.
void drain(Pipe& out, Pipe& err, CmdResult& r) {
    std::array<pollfd, 2> fds{pollfd{out.rd, POLLIN, 0}, pollfd{err.rd, POLLIN, 0}};
    std::array<std::string*, 2> sinks{&r.out, &r.err};
    int open = 2;
    while (open > 0) {
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw netlib::Error(errno, "poll", "plugin output");
        }
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            char buf[4096];
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                fds[i].fd = -1;
                --open;
            }
        }
    }
}

}  // namespace

void NetnsTest::SetUp() {
    if (::unshare(CLONE_NEWNET | CLONE_NEWNS) == -1) {
        std::string why = std::string{"unshare(CLONE_NEWNET|CLONE_NEWNS): "} + std::strerror(errno);
        if (errno == EPERM && !netns_required()) {
            GTEST_SKIP() << why << " (needs root/CAP_SYS_ADMIN; set SDNET_REQUIRE_NETNS=1 to fail)";
        }
        // Thrown, not FAIL(): a derived fixture's SetUp must not go on in the machine's own
        // namespaces. gtest reports the exception as this test's failure and skips the body.
        throw std::runtime_error(why + " (SDNET_REQUIRE_NETNS=1)");
    }
    // Keep every mount below from propagating back into the machine's namespace.
    netlib::check_errno(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr),
                        "mount --make-rprivate", "/");
    for (const char* dir : {"/run/netns", "/var/lib/cni", "/run/cni"}) {
        private_tmpfs(dir);
    }
    netlib::RouteSocket sock = netlib::RouteSocket::open();
    netlib::set_up(sock, 1, true);  // lo is always ifindex 1
}

TestNetns NetnsTest::make_netns(const std::string& prefix) {
    static std::atomic<int> counter{0};
    std::string name = prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    std::string path = netlib::create_named_netns(name);
    return TestNetns{name, path, netlib::Netns::open(path)};
}

CmdResult run_plugin(const std::string& binary, const std::map<std::string, std::string>& env,
                     const std::string& stdin_data) {
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) {
        env_strings.push_back(k + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    std::string argv0 = binary;
    std::array<char*, 2> argv{argv0.data(), nullptr};

    // A plugin that exits without reading stdin must not kill the test with SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    Pipe in;
    Pipe out;
    Pipe err;
    pid_t pid = ::fork();
    netlib::check_errno(pid, "fork", binary);
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec.
        ::signal(SIGPIPE, SIG_DFL);  // an ignored signal would stay ignored across exec
        ::dup2(in.rd, 0);
        ::dup2(out.wr, 1);
        ::dup2(err.wr, 2);
        ::execve(binary.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    in.close_rd();
    out.close_wr();
    err.close_wr();
    // CNI configs are small (< pipe buffer), so writing everything first cannot deadlock.
    std::size_t off = 0;
    while (off < stdin_data.size()) {
        ssize_t n = ::write(in.wr, stdin_data.data() + off, stdin_data.size() - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            break;  // EPIPE: the plugin did not read its input; report what it printed
        }
        off += static_cast<std::size_t>(n);
    }
    in.close_wr();
    CmdResult r;
    drain(out, err, r);
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
        r.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r.signal = WTERMSIG(status);
    }
    return r;
}

std::string plugin_path(const std::string& name) {
    return std::string{SDNET_BUILD_DIR} + "/cni/" + name;
}

}  // namespace sdnet::test
