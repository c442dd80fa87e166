// Kills host-local at random instants during ADD and DEL and checks that no partial reservation
// survives and that the next ADD works (and its index still finds everything).
#include <csignal>
#include <filesystem>
#include <gtest/gtest.h>
#include <random>
#include <set>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "exec_fixture.hpp"
#include "ipam/host_local.hpp"

namespace ipam::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class CrashTest : public HostLocalExecTest {
protected:
    std::mt19937 rng_{std::random_device{}()};
    int killed_mid_change_ = 0;
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
                std::string text = read_text(entry.path());
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
        if (fs::exists(net_ / ".sdnet/stamp") &&
            !read_text(net_ / ".sdnet/stamp").starts_with("sdnet host-local stamp")) {
            ++killed_mid_change_;  // the kill hit between the first change and the new stamp
        }
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

// A child process runs ADD/DEL in-process back to back, so nearly every kill lands inside the
// store code (the exec variant below mostly hits process start-up).
TEST_F(CrashTest, KillInProcessAllocatorAtRandomPoints) {
    std::uniform_int_distribution<int> delay_us(0, 4000);
    for (int round = 0; round < 120; ++round) {
        std::string prefix = "crash-" + std::to_string(round) + "-";
        // The delay starts once the child runs: on a loaded machine a child that has not been
        // scheduled yet would be killed before doing anything, round after round.
        int started[2];
        ASSERT_EQ(::pipe(started), 0);
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(started[0]);
            (void)!::write(started[1], "x", 1);
            for (int i = 0;; ++i) {
                try {
                    host_local_add(request(cni::Command::Add, prefix + std::to_string(i)));
                    if (i % 2 == 1) {
                        host_local_del(request(cni::Command::Del, prefix + std::to_string(i - 1)));
                    }
                } catch (const std::exception&) {
                    ::_exit(3);
                }
            }
        }
        ::close(started[1]);
        char byte;
        (void)!::read(started[0], &byte, 1);
        ::close(started[0]);
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng_)));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status)) << "child failed with exit status " << WEXITSTATUS(status);
        recover(round);
        if (HasFatalFailure()) {
            return;
        }
    }
    EXPECT_GT(killed_mid_change_, 0) << "no kill landed inside a change; the test proves little";
    RecordProperty("killed_mid_change", killed_mid_change_);
    expect_index_complete();
}

TEST_F(CrashTest, KillPluginProcessAtRandomPoints) {
    // Calibrate: how long one ADD takes here, so kills spread over the whole run.
    auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(ours("ADD", "crash-calibrate").status, 0);
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    std::uniform_int_distribution<long> delay_us(0, took.count() + 200);
    for (int round = 0; round < 60; ++round) {
        Child child{our_host_local(), cni_env("ADD", "crash-exec-" + std::to_string(round)),
                    config().dump()};
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng_)));
        ::kill(child.pid(), SIGKILL);
        child.wait();
        recover(round);
        if (HasFatalFailure()) {
            return;
        }
    }
    expect_index_complete();
}

}  // namespace
}  // namespace ipam::test
