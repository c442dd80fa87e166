// sdrun run: containers from the busybox image, observed from inside (what the command sees) and
// from outside (exit status, stderr, mounts and cgroups left behind).
#include <chrono>
#include <thread>

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

// A fork bomb (every shell starts two more and waits) under --pids-limit 20: the kernel refuses
// its forks at the limit (pids.events), it never holds more (pids.peak), and it dies whole
// with its PID 1 (the shell that started it, exec'd into sleep: it forks nothing), leaving
// nothing.
TEST_F(RunTest, APidsLimitContainsAForkBomb) {
    Background sdrun_bg(root, {"run", "--rm", "--name", id, "--pids-limit", "20", "busybox", "sh",
                               "-c", "f() { f & f & wait; }; f & exec sleep 600"});
    auto pids = wait_for_exec("sleep");
    auto dir = container_cgroup("pids", id);
    EXPECT_TRUE(sdnet::test::eventually([&] {
        return read_text(dir / "pids.events") != "max 0\n";
    })) << "no fork was refused: "
        << read_text(dir / "pids.events");
    auto peak = std::stoi(read_text(dir / "pids.peak"));
    EXPECT_LE(peak, 20);
    EXPECT_GE(peak, 10) << "the bomb never got going";
    ASSERT_EQ(kill(pids[0], SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
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

// The knobs beyond memory, pids and cpu quota as v1 holds them on this host.
TEST_F(RunTest, SwapCpusetAndDeviceRatesAreWrittenToTheContainersCgroups) {
    auto disk = some_block_device();
    Background sdrun_bg(root, {"run",
                               "--rm",
                               "--name",
                               id,
                               "--pids-limit",
                               "10",
                               "-m",
                               "32m",
                               "--memory-swap",
                               "48m",
                               "--cpuset-cpus",
                               "0",
                               "--cpuset-mems",
                               "0",
                               "--device-read-bps",
                               disk.path.string() + ":1mb",
                               "--device-write-bps",
                               disk.path.string() + ":2m",
                               "busybox",
                               "sleep",
                               "600"});
    auto pids = wait_for_exec("sleep");
    auto value = [this](const std::string& controller, const std::string& file) {
        return read_text(container_cgroup(controller, id) / file);
    };
    EXPECT_EQ(value("memory", "memory.limit_in_bytes"), "33554432\n");
    EXPECT_EQ(value("memory", "memory.memsw.limit_in_bytes"), "50331648\n");
    EXPECT_EQ(value("cpuset", "cpuset.cpus"), "0\n");
    EXPECT_EQ(value("cpuset", "cpuset.mems"), "0\n");
    auto listed = [&](const std::string& controller) {
        return value(controller, "cgroup.procs").find(std::to_string(pids[0]) + "\n");
    };
    EXPECT_NE(listed("cpuset"), std::string::npos);
    EXPECT_EQ(value("blkio", "blkio.throttle.read_bps_device"), disk.numbers + " 1048576\n");
    EXPECT_EQ(value("blkio", "blkio.throttle.write_bps_device"), disk.numbers + " 2097152\n");
    EXPECT_NE(listed("blkio"), std::string::npos);
    ASSERT_EQ(kill(pids[0], SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
    expect_nothing_left();
}

// Unlimited swap on top of the memory limit; without --memory-swap, none.
TEST_F(RunTest, MemorySwapMinusOneLiftsTheSwapLimit) {
    for (const auto& [swap, memsw] :
         {std::pair<std::string, std::string>{"-1", "9223372036854771712\n"},
          std::pair<std::string, std::string>{"", "33554432\n"}}) {
        std::vector<std::string> args = {"run",          "--rm", "--name", id,
                                         "--pids-limit", "10",   "-m",     "32m"};
        if (!swap.empty()) {
            args.insert(args.end(), {"--memory-swap", swap});
        }
        args.insert(args.end(), {"busybox", "sleep", "600"});
        Background sdrun_bg(root, args);
        auto pids = wait_for_container_pids(id, 1);
        EXPECT_EQ(read_text(container_cgroup("memory", id) / "memory.memsw.limit_in_bytes"), memsw)
            << "--memory-swap " << swap;
        ASSERT_EQ(kill(pids[0], SIGKILL), 0);
        EXPECT_EQ(sdrun_bg.wait().status, 137);
        expect_nothing_left();
    }
}

// --cpus 0.5 holds a busy loop at half a CPU or less: the CPU time it got over a wall-clock
// window of 3 s. Only the upper bound is asserted (a loaded machine can give it less).
TEST_F(RunTest, HalfACpuHoldsABusyLoopAtHalf) {
    Background sdrun_bg(root, {"run", "--rm", "--name", id, "--pids-limit", "10", "--cpus", "0.5",
                               "busybox", "sh", "-c", "while :; do :; done"});
    auto pid = wait_for_exec("sh")[0];
    auto cpu0 = cpu_time_ms(pid);
    auto wall0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(3));  // the measuring window
    auto cpu = cpu_time_ms(pid) - cpu0;
    auto wall =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall0).count();
    // 50 ms per 100 ms period; one period's quota of slack for the window's edges.
    EXPECT_LE(cpu / wall, 0.55) << cpu << " ms of CPU in " << wall << " ms";
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
    expect_nothing_left();
}

// blkio.weight exists only with BFQ (not on this host): written where the kernel has it,
// refused by name where it has not, never silently ignored.
TEST_F(RunTest, BlkioWeightIsWrittenOrRefusedByName) {
    if (!fs::exists(container_cgroup("blkio", id).parent_path() / "blkio.weight")) {
        auto r = run({"--blkio-weight", "300", "busybox", "true"});
        EXPECT_EQ(r.status, 125);
        EXPECT_EQ(r.err,
                  "sdrun run: --blkio-weight needs a proportional I/O scheduler (BFQ or iocost): "
                  "this kernel has no blkio.weight\n");
        expect_nothing_left();
        return;
    }
    Background sdrun_bg(root, {"run", "--rm", "--name", id, "--pids-limit", "10", "--blkio-weight",
                               "300", "busybox", "sleep", "600"});
    auto pids = wait_for_exec("sleep");
    EXPECT_EQ(read_text(container_cgroup("blkio", id) / "blkio.weight"), "300\n");
    ASSERT_EQ(kill(pids[0], SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
    expect_nothing_left();
}

// sdrun killed: its container dies with it instead of running on unsupervised, and the next
// sdrun call, whatever it is, removes the cgroups, the state record and the --rm directory.
TEST_F(RunTest, AfterSdrunIsKilledTheNextCallCleansUp) {
    Background sdrun_bg(root, {"run", "--rm", "--name", id, "--pids-limit", "10", "-m", "64m",
                               "busybox", "sleep", "600"});
    wait_for_container_pids(id, 1);
    ASSERT_TRUE(fs::exists(record(id)));
    ASSERT_EQ(kill(sdrun_bg.pid(), SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
    EXPECT_TRUE(fs::exists(root / "containers" / id))
        << "nothing to clean up: the test proves nothing";
    ASSERT_TRUE(container_processes_gone(id));
    EXPECT_EQ(leftover_cgroups(id).size(), 2U);
    auto r = sdrun(root, {"image", "ls"});
    EXPECT_EQ(r.status, 0) << r.err;
    expect_nothing_left();
}

// Without --rm the container's files stay (docker keeps a stopped container); the rest goes.
TEST_F(RunTest, AfterSdrunIsKilledAKeptContainerKeepsItsFilesOnly) {
    Background sdrun_bg(root,
                        {"run", "--name", id, "--pids-limit", "10", "busybox", "sleep", "600"});
    wait_for_container_pids(id, 1);
    ASSERT_EQ(kill(sdrun_bg.pid(), SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
    ASSERT_TRUE(container_processes_gone(id));
    auto r = sdrun(root, {"image", "ls"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(fs::exists(root / "containers" / id / "upper"));
    EXPECT_EQ(leftover_cgroups(id), std::vector<fs::path>{});
    EXPECT_FALSE(fs::exists(record(id)));
}

// A running container's record and cgroup are not another sdrun call's to clean up.
TEST_F(RunTest, ALiveContainerIsLeftAloneByOtherCalls) {
    Background sdrun_bg(
        root, {"run", "--rm", "--name", id, "--pids-limit", "10", "busybox", "sleep", "600"});
    auto pids = wait_for_container_pids(id, 1);
    auto r = sdrun(root, {"image", "ls"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(fs::exists(record(id)));
    EXPECT_EQ(leftover_cgroups(id).size(), 1U);
    EXPECT_EQ(kill(pids[0], 0), 0) << "the container was killed";
    ASSERT_EQ(kill(pids[0], SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
    expect_nothing_left();
}

// A record written in another pid namespace (an sdrun inside a container sharing the store)
// names a pid this call cannot check: it is left alone, not taken for a dead one.
TEST_F(RunTest, ARecordOfAnotherPidNamespaceIsLeftAlone) {
    auto dir = root / "containers" / "other";
    fs::create_directories(dir / "upper");
    fs::create_directories(root / "running");
    auto record_file = root / "running" / "other.json";
    std::ofstream(record_file) << R"({"name":"other","pid":1,"start_time":0,"pid_ns":1,)"
                               << R"("cgroups":[],"dir":")" << dir.string()
                               << R"(","remove_dir":true})";
    auto r = sdrun(root, {"image", "ls"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(fs::exists(dir / "upper"));
    EXPECT_TRUE(fs::exists(record_file));
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
        {{"--memory-swap", "64m", "busybox", "true"}, "--memory-swap needs --memory"},
        {{"-m", "64m", "--memory-swap", "32m", "busybox", "true"}, "is below --memory"},
        {{"--cpuset-cpus", "zero", "busybox", "true"}, "invalid cpuset-cpus \"zero\""},
        {{"--blkio-weight", "5", "busybox", "true"}, "invalid blkio weight \"5\": 10 to 1000"},
        {{"--device-read-bps", "/dev/null:1m", "busybox", "true"},
         "/dev/null is not a block device"},
        {{"--device-write-bps", "/dev/vda", "busybox", "true"}, "DEV:RATE"},
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
