// sdrun run, the process and its confinement: the init, seccomp, capabilities, rlimits, the
// environment file, users from the image, the pty and the known escapes. Observed from inside
// the container (what the command sees) and from outside (exit status, stderr, the host's files).
#include <csignal>
#include <fstream>
#include <memory>
#include <termios.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/sdrun/run_fixture.hpp"
#include "tests/support/eventually.hpp"

namespace sdrun_test {
namespace {

using sdnet::test::eventually;

// A file of /proc/<pid>/: "" once the process is gone (reading then fails with ESRCH).
std::string read_proc(const fs::path& file) {
    try {
        return read_text(file);
    } catch (const std::exception&) {
        return "";
    }
}

// The value of `key` in /proc/<pid>/status ("" once the process is gone).
std::string status_field(pid_t pid, const std::string& key) {
    for (const auto& line : lines(read_proc("/proc/" + std::to_string(pid) + "/status"))) {
        if (line.rfind(key + ":\t", 0) == 0) {
            return line.substr(key.size() + 2);
        }
    }
    return "";
}

// Host pid of the container's PID 1 (its NSpid ends in 1).
pid_t container_pid1(const std::string& name) {
    for (pid_t pid : wait_for_container_pids(name, 1)) {
        auto nspid = status_field(pid, "NSpid");
        if (nspid.size() > 2 && nspid.substr(nspid.size() - 2) == "\t1") {
            return pid;
        }
    }
    return -1;
}

struct ProcessInfo {
    std::string comm;
    char state;
};

// The children of host process `parent`, read from /proc: name and state (Z = zombie).
std::vector<ProcessInfo> children_of(pid_t parent) {
    std::vector<ProcessInfo> out;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        auto stat = read_proc(entry.path() / "stat");
        auto close = stat.rfind(')');
        if (close == std::string::npos) {
            continue;
        }
        std::istringstream rest(stat.substr(close + 2));
        char state = 0;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid == parent) {
            auto open = stat.find('(');
            out.push_back({stat.substr(open + 1, close - open - 1), state});
        }
    }
    return out;
}

bool only_a_sleeping_sleep(const std::vector<ProcessInfo>& children) {
    return children.size() == 1 && children[0].comm == "sleep" && children[0].state != 'Z';
}

// --- the init ---------------------------------------------------------------------------------

TEST_F(RunTest, TheInitIsPid1AndTheCommandItsChild) {
    auto r = sh("echo $$; cat /proc/1/comm");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "2\nsdrun-init\n");
    r = sh("echo $$", {"--init=false"});
    EXPECT_EQ(r.out, "1\n") << r.err;
    EXPECT_EQ(sh("kill -9 $$").status, 137) << "a signal's status passes through the init";
}

// `(true &)` leaves an orphan that is reparented to PID 1; sh then becomes `sleep`, which reaps
// nothing. Only an init that reaps leaves PID 1 with the sleep alone and no zombie.
TEST_F(RunTest, TheInitReapsAnOrphanedZombie) {
    Background bg(root, {"run", "--rm", "--name", id, "--pids-limit", "10", "busybox", "sh", "-c",
                         "(true &); exec sleep 600"});
    pid_t pid1 = container_pid1(id);
    ASSERT_GT(pid1, 0);
    std::vector<ProcessInfo> children;
    EXPECT_TRUE(eventually([&] { return only_a_sleeping_sleep(children = children_of(pid1)); }))
        << "children of PID 1: " << children.size()
        << (children.empty() ? "" : " first " + children[0].comm + " " + children[0].state);
    ASSERT_EQ(kill(bg.pid(), SIGTERM), 0);  // to the sleep, through the init
    EXPECT_EQ(bg.wait().status, 143);
    expect_nothing_left();
}

// docker stop: SIGTERM to sdrun ends a command without a handler (as PID 1 it would ignore it).
TEST_F(RunTest, SigtermToSdrunEndsASleepWith143) {
    Background bg(root,
                  {"run", "--rm", "--name", id, "--pids-limit", "10", "busybox", "sleep", "600"});
    wait_for_container_pids(id, 2);  // the init and the command
    ASSERT_EQ(kill(bg.pid(), SIGTERM), 0);
    auto r = bg.wait();
    EXPECT_EQ(r.status, 143) << r.err;
    expect_nothing_left();
}

// --- seccomp ----------------------------------------------------------------------------------

// Creating a user namespace needs no capability, so only the filter can refuse it.
TEST_F(RunTest, TheDefaultSeccompProfileDeniesUnshareWithEperm) {
    auto r = sh("grep '^Seccomp:' /proc/self/status; unshare -U true");
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "Seccomp:\t2\n");
    EXPECT_EQ(r.err, "unshare: unshare(0x10000000): Operation not permitted\n");
    r = sh("grep '^Seccomp:' /proc/self/status; unshare -U true && echo ok",
           {"--security-opt", "seccomp=unconfined"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "Seccomp:\t0\nok\n");
}

TEST_F(RunTest, TheDefaultProfileAllowsWhatAnAddedCapabilityNeeds) {
    auto r = sh("unshare -U true && echo ok", {"--cap-add", "SYS_ADMIN"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "ok\n");
}

TEST_F(RunTest, ASeccompProfileFileInDockersFormatIsApplied) {
    auto profile = tmp / "profile.json";
    std::ofstream(profile) << R"({"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                     {"names": ["unshare"], "action": "SCMP_ACT_ERRNO",
                      "includes": {"caps": ["CAP_SYS_ADMIN"]}}]})";
    auto r = sh("mkdir /x", {"--security-opt", "seccomp=" + profile.string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "mkdir: can't create directory '/x': Permission denied\n");
    r = sh("unshare -U true && echo ok", {"--security-opt", "seccomp=" + profile.string()});
    EXPECT_EQ(r.out, "ok\n") << "the unshare rule is only for CAP_SYS_ADMIN: " << r.err;
}

TEST_F(RunTest, ABadSeccompProfileIsOneLineAnd125) {
    auto write = [this](const std::string& name, const std::string& text) {
        auto file = tmp / name;
        std::ofstream(file) << text;
        return file.string();
    };

    struct Case {
        std::string file;
        std::string error;
    };

    const std::vector<Case> cases = {
        {write("a.json", "{not json"), "invalid seccomp profile"},
        {write("b.json", R"({"defaultAction": "SCMP_ACT_NOPE"})"), "SCMP_ACT_NOPE"},
        {write("c.json", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls":
              [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args":
                [{"index": 0, "value": 1, "op": "SCMP_CMP_SOMETIMES"}]}]})"),
         "SCMP_CMP_SOMETIMES"},
        {(tmp / "missing.json").string(), "cannot read seccomp profile"},
    };
    for (const auto& c : cases) {
        auto r = run({"--security-opt", "seccomp=" + c.file, "busybox", "true"});
        EXPECT_EQ(r.status, 125) << c.error;
        EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
        EXPECT_EQ(r.err_lines(), 1U) << r.err;
        expect_nothing_left();
    }
}

// --- capabilities, limits, environment ----------------------------------------------------------

TEST_F(RunTest, CapAddAndCapDropChangeEverySet) {
    const std::string caps = "grep -E '^Cap(Eff|Bnd|Amb)' /proc/self/status";
    auto r = sh(caps, {"--cap-drop", "ALL", "--cap-add", "net_admin"});
    EXPECT_EQ(r.out,
              "CapEff:\t0000000000001000\nCapBnd:\t0000000000001000\nCapAmb:\t0000000000001000\n")
        << r.err;
    // docker's 14 (a80425fb) without CAP_CHOWN (bit 0), with CAP_SYS_ADMIN (bit 21).
    r = sh(caps, {"--cap-drop", "CHOWN", "--cap-add", "CAP_SYS_ADMIN"});
    EXPECT_EQ(r.out,
              "CapEff:\t00000000a82425fa\nCapBnd:\t00000000a82425fa\nCapAmb:\t00000000a82425fa\n")
        << r.err;
    r = sh("grep CapBnd /proc/self/status", {"--cap-add", "ALL"});
    EXPECT_EQ(r.out, "CapBnd:\t" + status_field(getpid(), "CapBnd") + "\n") << r.err;
    r = run({"--cap-add", "NOT_A_CAP", "busybox", "true"});
    EXPECT_EQ(r.status, 125);
    EXPECT_EQ(r.err, "sdrun run: unknown capability \"NOT_A_CAP\"\n");
}

TEST_F(RunTest, UlimitSetsSoftAndHardLimits) {
    auto r = sh("ulimit -n; ulimit -Hn; ulimit -c",
                {"--ulimit", "nofile=1024:2048", "--ulimit", "core=0"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "1024\n2048\n0\n");
    for (const auto& [bad, error] : std::vector<std::pair<std::string, std::string>>{
             {"nofile=2048:1024", "soft limit above the hard limit"},
             {"files=10", "unknown limit \"files\""},
             {"nofile=ten", "\"ten\" is not a number"}}) {
        r = run({"--ulimit", bad, "busybox", "true"});
        EXPECT_EQ(r.status, 125);
        EXPECT_EQ(r.err, "sdrun run: invalid ulimit \"" + bad + "\": " + error + "\n");
    }
}

TEST_F(RunTest, EnvFileInDockersFormat) {
    auto file = tmp / "env";
    std::ofstream(file) << "# a comment\n\n  A=1\nB\nC=two words \nUNSET_HERE\nD=from file\n";
    auto r = sdrun(root,
                   {"run", "--rm", "--name", id, "--env-file", file.string(), "-e", "D=from -e",
                    "busybox", "sh", "-c", "echo \"[$A][$B][$C][$D][${UNSET_HERE-unset}]\""},
                   {"B=from host"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "[1][from host][two words ][from -e][unset]\n");
    std::ofstream(file) << "GOOD=1\nBAD KEY=1\n";
    r = run({"--env-file", file.string(), "busybox", "true"});
    EXPECT_EQ(r.status, 125);
    EXPECT_EQ(r.err, "sdrun run: env file " + file.string() +
                         " line 2: invalid variable name \"BAD KEY\"\n");
}

// --- users from the image ---------------------------------------------------------------------

class UserTest : public RunTest {
protected:
    void SetUp() override {
        RunTest::SetUp();
        auto tarball = busybox_tarball(tmp / "users", [this](const fs::path& rootfs) {
            fs::create_directories(rootfs / "etc");
            std::ofstream(rootfs / "etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n"
                                                    "app:x:1234:2345:App:/home/app:/bin/sh\n";
            std::ofstream(rootfs / "etc/group") << "root:x:0:\napp:x:2345:\n"
                                                   "extra:x:3000:root,app\nother:x:4000:root\n";
        });
        ASSERT_EQ(sdrun(root, {"image", "import", "users", tarball.string()}).status, 0);
    }
};

TEST_F(UserTest, NamesComeFromTheImagesPasswdAndGroup) {
    const std::string ids = "id -u; id -g; id -G; echo $HOME";
    auto r = run({"-u", "app", "users", "sh", "-c", ids});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "1234\n2345\n2345 3000\n/home/app\n");
    r = run({"-u", "app:other", "users", "sh", "-c", ids});
    EXPECT_EQ(r.out, "1234\n4000\n4000\n/home/app\n") << r.err;
    r = run({"-u", "1234:4000", "users", "sh", "-c", ids});
    EXPECT_EQ(r.out, "1234\n4000\n4000\n/home/app\n") << r.err;
    r = run({"-u", "777", "users", "sh", "-c", ids});
    EXPECT_EQ(r.out, "777\n0\n0\n/\n") << "a number without an entry: " << r.err;
    for (const auto& [user, error] : std::vector<std::pair<std::string, std::string>>{
             {"nobody", "unable to find user nobody"}, {"app:nogroup", "unable to find group"}}) {
        r = run({"-u", user, "users", "true"});
        EXPECT_EQ(r.status, 125) << user;
        EXPECT_NE(r.err.find(error), std::string::npos) << r.err;
        EXPECT_EQ(r.err_lines(), 1U) << r.err;
    }
}

// The image's /etc/passwd an absolute symlink to a host file: read on the host, the link would
// lead to the host's users, so it is refused.
TEST_F(RunTest, UserNamesNeverComeFromTheHost) {
    auto host_passwd = tmp / "host-passwd";
    std::ofstream(host_passwd) << "hostonly:x:4321:4321::/:/bin/sh\n";
    auto tarball = busybox_tarball(tmp / "evil", [&](const fs::path& rootfs) {
        fs::create_directories(rootfs / "etc");
        fs::create_symlink(host_passwd, rootfs / "etc/passwd");
    });
    ASSERT_EQ(sdrun(root, {"image", "import", "evil", tarball.string()}).status, 0);
    auto r = run({"-u", "hostonly", "evil", "id"});
    EXPECT_EQ(r.status, 125) << r.out;
    EXPECT_EQ(r.err, "sdrun run: cannot look up users: /etc/passwd is a symlink in the image\n");
}

// --- the pty ----------------------------------------------------------------------------------

TEST_F(RunTest, TtyGivesAPtyAsControllingTerminal) {
    const std::string script = "tty; [ -t 0 ] && echo stdin; exec 3</dev/tty && echo ctty";
    auto r = sh(script, {"-t"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "/dev/pts/0\r\nstdin\r\nctty\r\n");  // the pty turns \n into \r\n
    r = sh("tty", {"-t", "--init=false", "-u", "1000"});
    EXPECT_EQ(r.out, "/dev/pts/0\r\n") << r.err;
    r = sh(script);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "not a tty\n");
}

// A pty pair standing for the user's terminal.
struct OuterTerminal {
    OuterTerminal() {
        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0) {
            slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);  // NOLINT: one thread
        }
    }

    OuterTerminal(const OuterTerminal&) = delete;
    OuterTerminal& operator=(const OuterTerminal&) = delete;

    ~OuterTerminal() {
        close(slave);
        close(master);
    }

    bool canonical() const {
        termios t{};
        return tcgetattr(slave, &t) == 0 && (t.c_lflag & ICANON) != 0;
    }

    // What the terminal shows, read until `expected` is in it or a deadline passes.
    std::string read_until(const std::string& expected) const {
        std::string out;
        eventually([&] {
            pollfd p{master, POLLIN, 0};
            char buf[256];
            if (poll(&p, 1, 0) == 1) {
                auto n = read(master, buf, sizeof buf);
                out.append(buf, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
            }
            return out.find(expected) != std::string::npos;
        });
        return out;
    }

    int master = -1;
    int slave = -1;
};

// sdrun -t on a terminal: raw mode there while the container runs (keys go to the container's
// pty unprocessed), the terminal's settings back afterwards; the terminal's size followed.
TEST_F(RunTest, TtyPutsTheCallersTerminalInRawModeAndRestoresIt) {
    OuterTerminal term;
    ASSERT_GE(term.slave, 0);
    ASSERT_TRUE(term.canonical());
    winsize size{30, 100, 0, 0};
    ASSERT_EQ(ioctl(term.slave, TIOCSWINSZ, &size), 0);
    std::vector<std::string> args = {
        SDRUN_EXE, "--root", root.string(),
        "run",     "--rm",   "--name",
        id,        "-t",     "busybox",
        "sh",      "-c",     "stty size; read x; echo got:$x; stty size"};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (int fd : {0, 1, 2}) {
        posix_spawn_file_actions_adddup2(&actions, term.slave, fd);
    }
    pid_t pid = -1;
    ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    // Killed and reaped if an assertion ends the test early.
    std::unique_ptr<pid_t, void (*)(pid_t*)> reaper(&pid, [](pid_t* p) {
        kill(*p, SIGKILL);
        waitpid(*p, nullptr, 0);
    });
    ASSERT_TRUE(eventually([&] { return !term.canonical(); })) << "never in raw mode";
    auto shown = term.read_until("30 100\r\n");
    ASSERT_NE(shown.find("30 100\r\n"), std::string::npos) << shown;
    size = {40, 120, 0, 0};  // resized, then a key
    ASSERT_EQ(ioctl(term.slave, TIOCSWINSZ, &size), 0);
    ASSERT_EQ(write(term.master, "hi\r", 3), 3);
    shown = term.read_until("got:hi\r\n40 120\r\n");
    ASSERT_NE(shown.find("got:hi\r\n40 120\r\n"), std::string::npos) << shown;
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    reaper.release();
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_TRUE(term.canonical()) << "the terminal's settings were not restored";
}

// --- known escapes ----------------------------------------------------------------------------

// CVE-2019-5736: the runtime's binary reached from inside through /proc/<pid>/exe. The init is
// the one runtime process in the container; it runs from a read-only detached mount.
TEST_F(RunTest, TheInitsBinaryCannotBeOverwrittenFromInside) {
    const fs::path init = SDRUN_INIT_EXE;
    auto before = sha256sum(init);
    auto r = sh("echo x > /proc/1/exe");
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "sh: can't create /proc/1/exe: Read-only file system\n");
    r = sh("exec 3</proc/1/exe; echo x > /proc/self/fd/3");  // reopened from an fd
    EXPECT_EQ(r.err, "sh: can't create /proc/self/fd/3: Read-only file system\n");
    EXPECT_EQ(sha256sum(init), before);
}

// CVE-2024-21626: neither the command nor the init holds a host fd; both work inside the root.
TEST_F(RunTest, NoHostFdOrCwdLeaksIntoTheInit) {
    int leaked = fcntl(open("/dev/null", O_RDONLY), F_DUPFD, 50);  // no O_CLOEXEC
    ASSERT_GE(leaked, 50);
    auto r = sh("ls /proc/1/fd; readlink /proc/1/cwd; readlink /proc/self/cwd", {"-w", "/tmp"});
    close(leaked);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "0\n1\n2\n/tmp\n/tmp\n");
}

// --- help -------------------------------------------------------------------------------------

TEST(RunHelp, ListsEveryOptionOnOneLine) {
    TempDir tmp;
    auto r = sdrun(tmp.path(), {"run", "--help"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto text = lines(r.out);
    auto options = std::find(text.begin(), text.end(), "Options:");
    ASSERT_NE(options, text.end()) << r.out;
    std::vector<std::string> listed;
    for (auto it = options + 1; it != text.end() && !it->empty(); ++it) {
        EXPECT_EQ(it->rfind("  -", 0), 0U) << "a continuation line: " << *it;
        auto name = it->substr(it->find("--"));
        listed.push_back(name.substr(0, name.find_first_of(" [")));
    }
    // Other options may come; these must be there, once each.
    for (const char* option :
         {"--rm", "--name", "--env", "--env-file", "--workdir", "--user", "--hostname", "--tty",
          "--init", "--cap-add", "--cap-drop", "--security-opt", "--ulimit", "--memory",
          "--pids-limit", "--cpus", "--cpu-shares", "--read-only", "--help"}) {
        EXPECT_EQ(std::count(listed.begin(), listed.end(), option), 1) << option;
    }
}

}  // namespace
}  // namespace sdrun_test
