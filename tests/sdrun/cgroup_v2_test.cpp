// sdrun on cgroup v2, run under user-mode Linux (scripts/uml-run): this host's cgroup2 mount
// has no controllers. Each test mounts cgroup2 on /sys/fs/cgroup in its private mount namespace.
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include <signal.h>
#include <sys/mount.h>

#include "tests/sdrun/run_fixture.hpp"

namespace sdrun_test {
namespace {

class CgroupV2Test : public RunTest {
protected:
    void SetUp() override {
        RunTest::SetUp();
        ASSERT_EQ(mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, nullptr), 0)
            << "cgroup2: " << std::strerror(errno);
        mounts_before = read_text("/proc/self/mountinfo");
    }
};

TEST_F(CgroupV2Test, RunsWithoutLimits) {
    auto r = run({"busybox", "echo", "hello"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hello\n");
    expect_nothing_left();
}

TEST_F(CgroupV2Test, LimitsAreWrittenToTheContainersCgroup) {
    Background sdrun_bg(root, {"run", "--rm", "--name", id, "-m", "32m", "--pids-limit", "10",
                               "--cpus", "0.5", "-c", "512", "busybox", "sleep", "600"});
    auto pids = wait_for_container_pids(id, 1);
    auto dir = container_cgroup("", id);
    EXPECT_EQ(read_text(dir / "memory.max"), "33554432\n");
    EXPECT_EQ(read_text(dir / "memory.swap.max"), "0\n");
    EXPECT_EQ(read_text(dir / "pids.max"), "10\n");
    EXPECT_EQ(read_text(dir / "cpu.max"), "50000 100000\n");
    EXPECT_EQ(read_text(dir / "cpu.weight"), "20\n");  // runc's conversion of 512 shares
    ASSERT_EQ(kill(pids[0], SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
    expect_nothing_left();
}

TEST_F(CgroupV2Test, MemoryLimitKillsAnAllocationWith137) {
    auto r =
        run({"-m", "32m", "busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1"});
    EXPECT_EQ(r.status, 137);
    EXPECT_NE(r.err.find("OOM killed"), std::string::npos) << r.err;
    expect_nothing_left();
}

TEST_F(CgroupV2Test, PidsLimitStopsAForkLoop) {
    auto r = sh("n=0; while [ $n -lt 20 ]; do sleep 60 & n=$((n+1)); done; echo $n",
                {"--pids-limit", "5"});
    EXPECT_NE(r.status, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("can't fork"), std::string::npos) << r.err;
    expect_nothing_left();
}

// memory.swap.max holds the swap on top of memory.max: --memory-swap minus --memory, "max"
// for -1, 0 without the flag (the test above).
TEST_F(CgroupV2Test, MemorySwapIsTheSwapOnTopOfTheLimit) {
    for (const auto& [swap, expected] : {std::pair<std::string, std::string>{"48m", "16777216\n"},
                                         std::pair<std::string, std::string>{"-1", "max\n"}}) {
        Background sdrun_bg(root, {"run", "--rm", "--name", id, "--pids-limit", "10", "-m", "32m",
                                   "--memory-swap", swap, "busybox", "sleep", "600"});
        auto pids = wait_for_container_pids(id, 1);
        EXPECT_EQ(read_text(container_cgroup("", id) / "memory.swap.max"), expected)
            << "--memory-swap " << swap;
        ASSERT_EQ(kill(pids[0], SIGKILL), 0);
        EXPECT_EQ(sdrun_bg.wait().status, 137);
        expect_nothing_left();
    }
}

// The cgroup's own CPU usage (cpu.stat usage_usec) over a wall-clock window of 3 s stays at
// half a CPU or less under --cpus 0.5. Only the upper bound: a loaded machine gives less.
TEST_F(CgroupV2Test, HalfACpuHoldsABusyLoopAtHalf) {
    Background sdrun_bg(root, {"run", "--rm", "--name", id, "--pids-limit", "10", "--cpus", "0.5",
                               "busybox", "sh", "-c", "while :; do :; done"});
    auto pids = wait_for_container_pids(id, 1);
    auto usage_us = [this] {
        std::istringstream in(read_text(container_cgroup("", id) / "cpu.stat"));
        std::string key;
        double value = 0;
        in >> key >> value;  // the first line is usage_usec
        EXPECT_EQ(key, "usage_usec");
        return value;
    };
    auto cpu0 = usage_us();
    auto wall0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(3));  // the measuring window
    auto cpu_ms = (usage_us() - cpu0) / 1000;
    auto wall =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall0).count();
    EXPECT_LE(cpu_ms / wall, 0.55) << cpu_ms << " ms of CPU in " << wall << " ms";
    ASSERT_EQ(kill(pids[0], SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
    expect_nothing_left();
}

// user-mode Linux 6.1 offers no cpuset controller and no io.weight (neither BFQ nor iocost):
// each is refused by name instead of ignored, and nothing is left.
TEST_F(CgroupV2Test, CpusetAndIoWeightWithoutKernelSupportAreRefusedByName) {
    auto r = run({"--cpuset-cpus", "0", "busybox", "true"});
    EXPECT_EQ(r.status, 125);
    EXPECT_NE(r.err.find("does not offer the cpuset controller"), std::string::npos) << r.err;
    expect_nothing_left();
    r = run({"--blkio-weight", "300", "busybox", "true"});
    EXPECT_EQ(r.status, 125);
    EXPECT_EQ(r.err,
              "sdrun run: --blkio-weight needs a proportional I/O scheduler (BFQ or iocost): "
              "this kernel has no io.weight\n");
    expect_nothing_left();
}

// sdrun killed on v2: its container dies with it, the next call removes the one cgroup
// directory, the record and the --rm directory.
TEST_F(CgroupV2Test, AfterSdrunIsKilledTheNextCallCleansUp) {
    Background sdrun_bg(root, {"run", "--rm", "--name", id, "--pids-limit", "10", "-m", "64m",
                               "busybox", "sleep", "600"});
    wait_for_container_pids(id, 1);
    ASSERT_EQ(kill(sdrun_bg.pid(), SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
    EXPECT_TRUE(fs::exists(container_cgroup("", id))) << "nothing to clean up";
    EXPECT_TRUE(fs::exists(record(id)));
    ASSERT_TRUE(container_processes_gone(id));
    auto r = sdrun(root, {"image", "ls"});
    EXPECT_EQ(r.status, 0) << r.err;
    expect_nothing_left();
}

}  // namespace
}  // namespace sdrun_test
