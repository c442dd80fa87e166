// Kills host-local inside ADD and DEL and checks that no partial reservation survives and that
// the next ADD works (and its index still finds everything). The process is stopped at each
// named crash point of the store (ipam/crash_point.hpp) and killed there, in-process and as the
// plugin executable: every kill lands where it is meant to, with no timing and no luck.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <set>

#include <sys/wait.h>
#include <unistd.h>

#include "exec_fixture.hpp"
#include "ipam/crash_point.hpp"
#include "ipam/host_local.hpp"
#include "tests/ipam/crash_hook.hpp"

namespace ipam::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class CrashTest : public HostLocalExecTest {
protected:
    std::set<std::string> holders_;  // every container id that may hold something

    void SetUp() override {
        ipam_["ranges"] = json::array({json::array({{{"subnet", "10.8.0.0/16"}}})});
    }

    // No reservation file is partial: each holds exactly "<an id we used>\r\neth0".
    void expect_only_complete_reservations() {
        if (!fs::exists(net_)) {
            return;  // killed before the first ADD got that far
        }
        for (const auto& entry : fs::directory_iterator(net_)) {
            std::string name = entry.path().filename();
            if (name.starts_with("last_reserved_ip.")) {
                // Only a hint where the next search starts, rewritten in place (as the reference
                // does): a kill right after its creation leaves it empty, and the allocator then
                // starts at the beginning of the range (the probe ADD in recover() proves it).
                std::string text = read_file(entry.path());
                EXPECT_TRUE(text.empty() || netlib::IpAddr::try_parse(text))
                    << name << ": \"" << text << "\"";
            } else {
                EXPECT_TRUE(name == "lock" || name == ".sdnet" || netlib::IpAddr::try_parse(name))
                    << "unexpected file " << name;
            }
        }
        for (const auto& [ip, content] : reservations()) {
            auto crlf = content.find("\r\n");
            ASSERT_NE(crlf, std::string::npos) << ip << ": \"" << content << "\"";
            EXPECT_EQ(content.substr(crlf), "\r\neth0") << ip;
            EXPECT_TRUE(content.starts_with("crash-") || content.starts_with("probe-"))
                << ip << ": " << content;
            holders_.insert(content.substr(0, crlf));
        }
    }

    // After a kill: the files are complete, the next ADD works and gets a free address, and no
    // temp file is left once it has run.
    void recover(int round) {
        expect_only_complete_reservations();
        auto before = reservations();
        std::string probe = "probe-" + std::to_string(round);
        auto e = ours("ADD", probe);
        ASSERT_EQ(e.status, 0) << e.out << e.err;
        EXPECT_EQ(before.count(address_of(e, 0)), 0u) << "handed out a reserved address";
        for (const auto& entry : fs::directory_iterator(net_ / ".sdnet")) {
            EXPECT_FALSE(entry.path().filename().string().starts_with("tmp-")) << entry.path();
        }
        ASSERT_EQ(ours("DEL", probe).status, 0);
    }

    // What a session killed inside a change leaves: the stamp's first byte overwritten.
    void invalidate_stamp() const {
        std::ofstream(net_ / ".sdnet/stamp", std::ios::in | std::ios::out) << '!';
    }

    // Every crash point lies inside a change: the stamp must not vouch for the index.
    void expect_killed_inside_a_change() const {
        ASSERT_TRUE(fs::exists(net_ / ".sdnet/stamp"));
        EXPECT_FALSE(read_file(net_ / ".sdnet/stamp").starts_with("sdnet host-local stamp"));
    }

    // DEL of every holder through the index must leave nothing behind: the index survived too.
    void expect_index_complete() {
        expect_only_complete_reservations();
        for (const auto& id : holders_) {
            ASSERT_EQ(ours("DEL", id).status, 0);
        }
        EXPECT_TRUE(reservations().empty()) << reservations().begin()->first;
    }

    cni::Request request(cni::Command cmd, const std::string& id) const {
        cni::Request req;
        req.env.command = cmd;
        req.env.container_id = id;
        req.env.netns = "/run/netns/x";
        req.env.ifname = "eth0";
        req.env.path = "/usr/lib/cni";
        req.config = config();
        req.conf = cni::NetConf::parse(req.config);
        return req;
    }
};

// Waits until `pid` stops at its armed crash point (true; it is then killed, still unreaped) or
// ends without reaching it (false; left for the caller to reap).
bool stopped_then_killed(pid_t pid) {
    siginfo_t info{};
    while (::waitid(P_PID, pid, &info, WSTOPPED | WEXITED | WNOWAIT) != 0) {
        if (errno != EINTR) {
            ADD_FAILURE() << "waitid: " << std::strerror(errno);
            return false;
        }
    }
    if (info.si_code != CLD_STOPPED) {
        return false;
    }
    ::kill(pid, SIGKILL);
    return true;
}

// Which verb reaches a crash point: DEL's own, or ADD's (the rest).
bool reached_by_del(std::string_view point) {
    return point == "reservation-unlinked" || point == "index-cleared";
}

// Only a session that finds the stamp invalid rebuilds, and recover() leaves it valid: the runs
// for "snapshot-written" first invalidate it, as a session killed inside a change leaves it.
bool needs_rebuild(std::string_view point) {
    return point == "snapshot-written";
}

// Each crash point, at its first and second arrival, in a child that runs ADD/DEL in-process
// back to back (the second arrival comes with the index holding more); a rebuild happens once
// per child, so "snapshot-written" has one arrival.
TEST_F(CrashTest, KillInProcessAllocatorAtEveryCrashPoint) {
    int round = 0;
    for (std::string_view point : crash_point::kAll) {
        int hits = needs_rebuild(point) ? 1 : 2;
        for (int hit = 1; hit <= hits; ++hit, ++round) {
            SCOPED_TRACE(std::string{point} + " arrival " + std::to_string(hit));
            std::string prefix = "crash-" + std::to_string(round) + "-";
            if (needs_rebuild(point)) {
                invalidate_stamp();
            }
            pid_t pid = ::fork();
            ASSERT_GE(pid, 0);
            if (pid == 0) {
                arm_crash_point(point, hit);
                for (int i = 0; i < 8; ++i) {
                    try {
                        host_local_add(request(cni::Command::Add, prefix + std::to_string(i)));
                        if (i % 2 == 1) {
                            host_local_del(
                                request(cni::Command::Del, prefix + std::to_string(i - 1)));
                        }
                    } catch (const std::exception&) {
                        ::_exit(3);
                    }
                }
                ::_exit(4);  // never arrived
            }
            bool killed = stopped_then_killed(pid);
            int status = 0;
            ::waitpid(pid, &status, 0);
            ASSERT_TRUE(killed) << "never stopped there; exit status " << WEXITSTATUS(status);
            expect_killed_inside_a_change();
            recover(round);
            if (HasFatalFailure()) {
                return;
            }
        }
    }
    expect_index_complete();
}

// The plugin executable (its test build, which arms the point named in its environment),
// killed at each crash point of one ADD, or of one DEL of an attachment added before.
TEST_F(CrashTest, KillPluginProcessAtEveryCrashPoint) {
    int round = 0;
    for (std::string_view point : crash_point::kAll) {
        SCOPED_TRACE(std::string{point});
        std::string id = "crash-exec-" + std::to_string(round);
        if (reached_by_del(point)) {
            ASSERT_EQ(ours("ADD", id).status, 0);
        }
        if (needs_rebuild(point)) {
            invalidate_stamp();
        }
        EnvMap env = cni_env(reached_by_del(point) ? "DEL" : "ADD", id);
        env[kCrashPointEnv] = std::string{point} + ":1";
        Child child{crash_host_local(), env, config().dump()};
        bool killed = stopped_then_killed(child.pid());
        Exec e = child.wait();
        ASSERT_TRUE(killed) << "never stopped there: " << e.status << " " << e.out << e.err;
        EXPECT_EQ(e.signal, SIGKILL);
        expect_killed_inside_a_change();
        recover(round++);
        if (HasFatalFailure()) {
            return;
        }
    }
    expect_index_complete();
}

}  // namespace
}  // namespace ipam::test
