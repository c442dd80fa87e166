#pragma once

#include <algorithm>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <vector>

#include <sys/mount.h>
#include <unistd.h>

#include "tests/sdrun/support.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/netns_fixture.hpp"

// The fixture of the tests that run containers (on the host's cgroup v1 and, under user-mode
// Linux, on cgroup v2) and what they observe with.
namespace sdrun_test {

inline std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

// The mount points (field 5) of a mountinfo text.
inline std::vector<std::string> mount_points(const std::string& mountinfo) {
    std::vector<std::string> out;
    for (const auto& line : lines(mountinfo)) {
        std::istringstream fields(line);
        std::string field;
        for (int i = 0; i < 5 && fields >> field; ++i) {
        }
        out.push_back(field);
    }
    return out;
}

// The cgroup directories "sdrun-<name>" that exist below this process's cgroup, any hierarchy.
inline std::vector<fs::path> leftover_cgroups(const std::string& name) {
    std::vector<fs::path> out;
    for (const auto& line : lines(read_text("/proc/self/cgroup"))) {
        auto first = line.find(':');
        auto second = line.find(':', first + 1);
        auto controllers = line.substr(first + 1, second - first - 1);
        auto base = fs::path("/sys/fs/cgroup");
        if (controllers.empty()) {
            base /= fs::exists("/sys/fs/cgroup/unified") ? "unified" : "";
        } else {
            base /= controllers.rfind("name=", 0) == 0 ? controllers.substr(5) : controllers;
        }
        auto dir = base / fs::path(line.substr(second + 1)).relative_path() / ("sdrun-" + name);
        if (fs::exists(dir)) {
            out.push_back(dir);
        }
    }
    return out;
}

// Once sdrun is killed, its container dies (PR_SET_PDEATHSIG) on the kernel's schedule: a pid
// namespace's last tasks can take seconds on a loaded machine (the cleaning call then keeps the
// record for a later call, by design). Tests of that cleanup wait for the processes first.
inline bool container_processes_gone(const std::string& name) {
    return sdnet::test::eventually([&] {
        for (const auto& dir : leftover_cgroups(name)) {
            if (!read_text(dir / "cgroup.procs").empty()) {
                return false;
            }
        }
        return true;
    });
}

// Each test in a private network and mount namespace, with the image store on a tmpfs that is
// *shared*: a mount sdrun failed to keep inside the container would propagate back here.
class RunTest : public sdnet::test::NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        fs::create_directories(root);
        ASSERT_EQ(mount("tmpfs", root.c_str(), "tmpfs", 0, nullptr), 0);
        ASSERT_EQ(mount(nullptr, root.c_str(), nullptr, MS_SHARED, nullptr), 0);
        auto tarball = busybox_tarball(tmp.path());
        auto r = sdrun(root, {"image", "import", "busybox", tarball.string()});
        ASSERT_EQ(r.status, 0) << r.err;
        mounts_before = read_text("/proc/self/mountinfo");
    }

    // A test that failed half-way killed its sdrun (Background's destructor): any sdrun call
    // removes what that left on the host (cgroups) before the store goes.
    void TearDown() override {
        sdrun(root, {"image", "ls"});
        umount2(root.c_str(), MNT_DETACH);
    }

    // `sdrun run --rm --name t <args>`.
    Outcome run(const std::vector<std::string>& args) {
        std::vector<std::string> all = {"run", "--rm", "--name", id};
        all.insert(all.end(), args.begin(), args.end());
        return sdrun(root, all);
    }

    Outcome sh(const std::string& script, const std::vector<std::string>& options = {}) {
        auto args = options;
        args.insert(args.end(), {"busybox", "sh", "-c", script});
        return run(args);
    }

    // Nothing of container `name` is left: mounts, cgroups, files.
    void expect_nothing_left() { expect_nothing_left(id); }

    void expect_nothing_left(const std::string& name) {
        EXPECT_EQ(read_text("/proc/self/mountinfo"), mounts_before);
        EXPECT_EQ(leftover_cgroups(name), std::vector<fs::path>{});
        EXPECT_FALSE(fs::exists(root / "containers" / name));
        EXPECT_FALSE(fs::exists(record(name))) << "the state record is left";
    }

    // The container's processes once one of them runs `comm` (the command, after the init),
    // that one first: past exec, so it has joined every cgroup.
    std::vector<pid_t> wait_for_exec(const std::string& comm) {
        std::vector<pid_t> pids;
        EXPECT_TRUE(sdnet::test::eventually([&] {
            pids = wait_for_container_pids(id, 1);
            auto it = std::find_if(pids.begin(), pids.end(), [&](pid_t p) {
                return read_text("/proc/" + std::to_string(p) + "/comm") == comm + "\n";
            });
            if (it == pids.end()) {
                return false;
            }
            std::rotate(pids.begin(), it, it + 1);
            return true;
        })) << "the container never ran "
            << comm;
        return pids;
    }

    // The state record of a running container.
    fs::path record(const std::string& name) const { return root / "running" / (name + ".json"); }

    TempDir tmp;
    fs::path root = tmp / "store";
    std::string mounts_before;
    // Unique among concurrently running tests: their cgroups share one parent.
    const std::string id = "t" + std::to_string(getpid());
};

}  // namespace sdrun_test
