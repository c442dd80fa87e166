// sdrun on cgroup v2, run under user-mode Linux (scripts/uml-run): this host's cgroup2 mount
// has no controllers. Each test mounts cgroup2 on /sys/fs/cgroup in its private mount namespace.
#include <cstring>

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

}  // namespace
}  // namespace sdrun_test
