// sdrun run: containers from the busybox image, observed from inside (what the command sees) and
// from outside (exit status, stderr, mounts and cgroups left behind).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "tests/sdrun/run_fixture.hpp"

namespace sdrun_test {
namespace {

// docker's 14 default capabilities as /proc/<pid>/status prints a set.
constexpr const char* kDockerCaps = "00000000a80425fb";

TEST_F(RunTest, EchoHelloPrintsHello) {
    auto r = run({"busybox", "echo", "hello"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hello\n");
    EXPECT_EQ(r.err, "");
    expect_nothing_left();
}

TEST_F(RunTest, ThePidNamespaceHoldsOnlyTheContainer) {
    auto r = sh("echo $$; ps -o pid,comm; true");  // `true`: sh must not exec ps in its place
    ASSERT_EQ(r.status, 0) << r.err;
    // The init is PID 1; ps sees it, the command and itself, nothing of the host.
    EXPECT_EQ(lines(r.out), (std::vector<std::string>{"2", "PID   COMMAND", "    1 sdrun-init",
                                                      "    2 sh", "    3 ps"}))
        << r.out;
}

TEST_F(RunTest, HostnameIsTheContainers) {
    auto r = sh("hostname; cat /etc/hostname; grep -c box /etc/hosts", {"--hostname", "box"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "box\nbox\n1\n");
    r = run({"busybox", "cat", "/etc/resolv.conf"});
    EXPECT_EQ(r.out, read_text("/etc/resolv.conf"));
    r = sh("hostname");
    EXPECT_EQ(r.out, id + "\n") << "the default hostname is the container's name";
}

TEST_F(RunTest, HostMountsAreInvisible) {
    auto r = run({"busybox", "cat", "/proc/self/mountinfo"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto points = mount_points(r.out);
    for (const auto& p : points) {
        EXPECT_TRUE(p == "/" || p.rfind("/proc", 0) == 0 || p.rfind("/sys", 0) == 0 ||
                    p.rfind("/dev", 0) == 0)
            << p;
        EXPECT_NE(p.rfind("/run", 0), 0U) << p;
        EXPECT_NE(p.rfind("/sys/fs/cgroup", 0), 0U) << p;
    }
    EXPECT_NE(r.out.find(" / rw,relatime - overlay overlay "), std::string::npos) << r.out;
}

TEST_F(RunTest, LoopbackIsTheOnlyInterfaceAndIsUp) {
    auto r = sh("ls /sys/class/net; cat /sys/class/net/lo/flags");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "lo\n0x9\n");  // IFF_UP | IFF_LOOPBACK
}

TEST_F(RunTest, MaskedPathsAreEmpty) {
    ASSERT_GT(read_text("/proc/timer_list").size(), 0U);
    ASSERT_GT(read_text("/proc/interrupts").size(), 0U);
    auto r = sh("wc -c < /proc/timer_list; wc -c < /proc/interrupts; ls -A /sys/firmware | wc -l");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "0\n0\n0\n");
}

TEST_F(RunTest, ProcSysIsReadOnly) {
    auto r = sh("echo 1 > /proc/sys/net/ipv4/ip_forward");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
    r = sh("grep ' /proc/sys ' /proc/self/mountinfo");
    EXPECT_NE(r.out.find(" /proc/sys ro,"), std::string::npos) << r.out;
    r = sh("echo 1500 > /sys/class/net/lo/mtu");  // /sys is read-only as a whole
    EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
}

TEST_F(RunTest, DockersCapabilitiesInEverySetAndNoMount) {
    auto r = sh("grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)|^NoNewPrivs' /proc/self/status");
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
        EXPECT_NE(r.out.find(std::string(set) + ":\t" + kDockerCaps), std::string::npos) << r.out;
    }
    EXPECT_NE(r.out.find("NoNewPrivs:\t1"), std::string::npos) << r.out;
    // No CAP_SYS_ADMIN: mount fails.
    r = sh("mkdir /m && mount -t tmpfs none /m");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("mount: permission denied"), std::string::npos) << r.err;
}

TEST_F(RunTest, DevHoldsTheDefaultDevices) {
    auto r = sh("ls /dev; head -c 4 /dev/zero | wc -c; echo x > /dev/null && echo ok");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out,
              "fd\nfull\nmqueue\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\n"
              "urandom\nzero\n4\nok\n");
}

TEST_F(RunTest, UserWorkdirAndEnvironment) {
    auto r = sh("id; pwd; echo $A", {"-u", "1000:1001", "-w", "/work", "-e", "A=b"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "uid=1000 gid=1001\n/work\nb\n");
}

TEST_F(RunTest, ReadOnlyRootRefusesWrites) {
    auto r = sh("touch /x", {"--read-only"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
    r = sh("touch /x && echo ok");
    EXPECT_EQ(r.out, "ok\n") << r.err;
}

TEST_F(RunTest, OnlyStdioIsInherited) {
    int leaked = fcntl(open("/dev/null", O_RDONLY), F_DUPFD, 50);  // no O_CLOEXEC
    ASSERT_GE(leaked, 50);
    auto r = run({"busybox", "ls", "/proc/self/fd"});
    close(leaked);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "0\n1\n2\n3\n");  // 3: the directory ls reads
}

TEST_F(RunTest, ExitStatusesPassThrough) {
    EXPECT_EQ(run({"busybox", "true"}).status, 0);
    EXPECT_EQ(sh("exit 3").status, 3);
    auto r = run({"busybox", "nosuch"});
    EXPECT_EQ(r.status, 127);
    EXPECT_EQ(r.err, "sdrun run: nosuch: executable file not found in $PATH\n");
    r = run({"busybox", "/etc/hosts"});
    EXPECT_EQ(r.status, 126);
    EXPECT_EQ(r.err, "sdrun run: /etc/hosts: permission denied (not executable)\n");
    expect_nothing_left();
}

TEST_F(RunTest, MemoryLimitKillsAnAllocationWith137) {
    // dd allocates its block size: one 100 MiB buffer, filled from /dev/zero.
    auto big = std::vector<std::string>{"busybox",      "dd",      "if=/dev/zero",
                                        "of=/dev/null", "bs=100M", "count=1"};
    auto r = run(big);
    ASSERT_EQ(r.status, 0) << "without a limit it fits: " << r.err;
    auto limited = std::vector<std::string>{"-m", "32m"};
    limited.insert(limited.end(), big.begin(), big.end());
    r = run(limited);
    EXPECT_EQ(r.status, 137);
    EXPECT_NE(r.err.find("OOM killed"), std::string::npos) << r.err;
    expect_nothing_left();
}

TEST_F(RunTest, PidsLimitStopsAForkLoop) {
    const std::string loop = "n=0; while [ $n -lt 20 ]; do sleep 60 & n=$((n+1)); done; echo $n";
    auto r = sh(loop);
    ASSERT_EQ(r.out, "20\n") << "without a limit all start: " << r.err;
    r = sh(loop, {"--pids-limit", "5"});
    EXPECT_NE(r.status, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("can't fork"), std::string::npos) << r.err;
    expect_nothing_left();
}

// SIGKILL from outside: 128+9, and not reported as an OOM kill (137 alone is not OOM).
TEST_F(RunTest, AKilledContainerExitsWith137AndLeavesNothing) {
    Background sdrun_bg(root, {"run", "--rm", "--name", id, "--pids-limit", "10", "-m", "64m",
                               "busybox", "sleep", "600"});
    auto pids = wait_for_container_pids(id, 1);
    ASSERT_EQ(kill(pids[0], SIGKILL), 0);
    auto r = sdrun_bg.wait();
    EXPECT_EQ(r.status, 137);
    EXPECT_EQ(r.err, "");
    expect_nothing_left();
}

// SIGTERM to sdrun reaches the container's command, whose status comes back.
TEST_F(RunTest, SigtermIsForwardedToTheContainer) {
    Background sdrun_bg(root, {"run", "--rm", "--name", id, "--pids-limit", "10", "busybox", "sh",
                               "-c", "trap 'exit 7' TERM; sleep 600 & wait"});
    wait_for_container_pids(id, 3);  // the init, sh and sleep: the trap is set before sleep
    ASSERT_EQ(kill(sdrun_bg.pid(), SIGTERM), 0);
    auto r = sdrun_bg.wait();
    EXPECT_EQ(r.status, 7) << r.err;
    expect_nothing_left();
}

// The limits as the kernel holds them while the container runs (v1 files on this host).
TEST_F(RunTest, LimitsAreWrittenToTheContainersCgroups) {
    Background sdrun_bg(root, {"run", "--rm", "--name", id, "-m", "32m", "--pids-limit", "10",
                               "--cpus", "0.5", "-c", "512", "busybox", "sleep", "600"});
    auto pids = wait_for_container_pids(id, 2);  // the init and the command
    auto value = [this](const std::string& controller, const std::string& file) {
        return read_text(container_cgroup(controller, id) / file);
    };
    EXPECT_EQ(value("memory", "memory.limit_in_bytes"), "33554432\n");
    EXPECT_EQ(value("pids", "pids.max"), "10\n");
    EXPECT_EQ(value("cpu", "cpu.cfs_quota_us"), "50000\n");
    EXPECT_EQ(value("cpu", "cpu.cfs_period_us"), "100000\n");
    EXPECT_EQ(value("cpu", "cpu.shares"), "512\n");
    EXPECT_EQ(value("memory", "cgroup.procs"),
              std::to_string(pids[0]) + "\n" + std::to_string(pids[1]) + "\n");
    ASSERT_EQ(kill(pids[0], SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
    expect_nothing_left();
}

// sdrun killed: its container dies with it instead of running on unsupervised. (Its cgroup and
// files stay until a later phase's cleanup by the next sdrun.)
TEST_F(RunTest, TheContainerDiesWithSdrun) {
    Background sdrun_bg(
        root, {"run", "--rm", "--name", id, "--pids-limit", "10", "busybox", "sleep", "600"});
    wait_for_container_pids(id, 1);
    ASSERT_EQ(kill(sdrun_bg.pid(), SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
    wait_for_container_pids(id, 0, /*exactly=*/true);
    for (const auto& dir : leftover_cgroups(id)) {  // what the later phase's cleanup will do
        rmdir(dir.c_str());
    }
}

TEST_F(RunTest, BadInputIsOneLineAnd125WithNothingLeft) {
    struct Case {
        std::vector<std::string> args;
        std::string error;
    };

    const std::vector<Case> cases = {
        {{"nosuch", "true"}, "no such image \"nosuch\""},
        {{"-m", "12qb", "busybox", "true"}, "invalid memory limit \"12qb\""},
        {{"--pids-limit", "-3", "busybox", "true"}, "invalid pids limit \"-3\""},
        {{"busybox"}, "no command specified"},
        {{}, "missing IMAGE"},
        {{"-w", "rel", "busybox", "true"}, "is not absolute"},
    };
    for (const auto& c : cases) {
        auto r = run(c.args);
        EXPECT_EQ(r.status, 125) << c.error;
        EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
        EXPECT_EQ(r.err_lines(), 1U) << r.err;
        expect_nothing_left();
    }
}

// Imports a tarball of `entries` (symlink path -> target) as image "evil".
void import_symlinks(const fs::path& root, const fs::path& dir,
                     const std::vector<std::pair<std::string, std::string>>& entries) {
    Tarball t(dir / "evil.tar");
    for (const auto& [path, target] : entries) {
        t.symlink(path, target);
    }
    auto r = sdrun(root, {"image", "import", "evil", t.close().string()});
    ASSERT_EQ(r.status, 0) << r.err;
}

// /etc an absolute symlink to a host directory: /etc/hostname, /etc/hosts and /etc/resolv.conf
// are written after pivot_root, where the link resolves inside the container (and dangles
// here), never on the host.
TEST_F(RunTest, GeneratedFilesFollowNoSymlinkOutOfTheRoot) {
    auto host_dir = tmp / "host-etc";
    fs::create_directory(host_dir);
    import_symlinks(root, tmp.path(), {{"etc", host_dir.string()}});
    auto r = run({"evil", "true"});
    EXPECT_EQ(r.status, 125);
    EXPECT_NE(r.err.find("cannot write /etc/"), std::string::npos) << r.err;
    EXPECT_EQ(r.err_lines(), 1U) << r.err;
    EXPECT_TRUE(fs::is_empty(host_dir)) << "written on the host";
    expect_nothing_left();
}

// The same for the working directory docker creates when missing.
TEST_F(RunTest, TheWorkdirIsCreatedInsideTheRoot) {
    auto host_dir = tmp / "host-dir";
    fs::create_directory(host_dir);
    import_symlinks(root, tmp.path(), {{"work", host_dir.string()}});
    auto r = run({"-w", "/work/sub", "evil", "true"});
    EXPECT_EQ(r.status, 125);
    EXPECT_NE(r.err.find("cannot create the working directory /work/sub"), std::string::npos)
        << r.err;
    EXPECT_TRUE(fs::is_empty(host_dir)) << "created on the host";
    expect_nothing_left();
}

// /proc a symlink in the image (CVE-2019-16884's shape): refused before anything is mounted.
TEST_F(RunTest, AMountTargetThatIsASymlinkIsRefused) {
    import_symlinks(root, tmp.path(), {{"proc", "/"}});
    auto r = run({"evil", "true"});
    EXPECT_EQ(r.status, 125);
    EXPECT_EQ(r.err, "sdrun run: mount target /proc is a symlink in the image; refusing it\n");
    expect_nothing_left();
}

TEST_F(RunTest, WithoutRmTheContainersFilesStayAndItsNameIsTaken) {
    const std::string kept = "kept" + id;
    auto r = sdrun(
        root, {"run", "--name", kept, "-m", "64m", "busybox", "sh", "-c", "echo data > /file"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(read_text(root / "containers" / kept / "upper/file"), "data\n");
    r = sdrun(root, {"run", "--name", kept, "busybox", "true"});
    EXPECT_EQ(r.status, 125);
    EXPECT_EQ(r.err, "sdrun run: container name \"" + kept + "\" is already in use\n");
    EXPECT_EQ(read_text("/proc/self/mountinfo"), mounts_before);
    EXPECT_EQ(leftover_cgroups(kept), std::vector<fs::path>{});
}

}  // namespace
}  // namespace sdrun_test
