// Containers run from layered images: whiteouts and opaque directories as overlayfs shows them,
// the image config applied as docker applies it, images in use kept.
#include <functional>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/sdrun/oci_builder.hpp"
#include "tests/sdrun/run_fixture.hpp"
#include "tests/support/eventually.hpp"

namespace sdrun_test {
namespace {

class ImageRunTest : public RunTest {
protected:
    using Fill = std::function<void(Tarball&)>;

    OciLayout layout{tmp / "layout"};

    // Imports an image of busybox under the layers `fills` write, with `config`.
    void import(const std::string& name, const std::vector<Fill>& fills,
                const json& config = json::object(), const std::string& platform = "") {
        std::vector<Blob> layers = {layout.layer(busybox_tarball(tmp.path()))};
        for (const auto& fill : fills) {
            layers.push_back(layout.layer(fill));
        }
        auto manifest = layout.image(layers, config, platform.empty() ? host_platform() : platform);
        layout.index({{manifest, ""}});
        std::vector<std::string> args = {"image", "import"};
        if (!platform.empty()) {
            args.insert(args.end(), {"--platform", platform});
        }
        args.insert(args.end(), {name, layout.dir().string()});
        auto r = sdrun(root, args);
        ASSERT_EQ(r.status, 0) << r.err;
    }

    // What `script` prints in a container of busybox under the layers `lower` and `upper` write.
    std::string shell_over(const Fill& lower, const Fill& upper, const std::string& script) {
        import("layered", {lower, upper});
        auto r = run({"layered", "sh", "-c", script});
        EXPECT_EQ(r.status, 0) << r.err;
        expect_nothing_left();
        return r.out;
    }
};

TEST_F(ImageRunTest, AFileDeletedInAnUpperLayerIsAbsent) {
    auto lower = [](Tarball& t) {
        t.file("data/gone", "x\n");
        t.file("data/kept", "x\n");
        t.file("tree/leaf", "x\n");
    };
    auto upper = [](Tarball& t) {
        t.file("data/.wh.gone", "");
        t.file(".wh.tree", "");
    };
    EXPECT_EQ(shell_over(lower, upper,
                         "ls -A /data; test -e /data/gone || echo no-gone; "
                         "test -e /tree || echo no-tree"),
              "kept\nno-gone\nno-tree\n");
}

TEST_F(ImageRunTest, AnOpaqueDirectoryShowsOnlyTheUpperLayersFiles) {
    auto lower = [](Tarball& t) {
        t.file("opq/old1", "x\n");
        t.file("opq/sub/old2", "x\n");
        t.file("beside/kept", "x\n");
    };
    auto upper = [](Tarball& t) {
        t.file("opq/.wh..wh..opq", "");
        t.file("opq/new", "new\n");
    };
    EXPECT_EQ(shell_over(lower, upper, "ls -A /opq; cat /opq/new; ls -A /beside"),
              "new\nnew\nkept\n");
}

TEST_F(ImageRunTest, TheImageConfigIsUsedAsDockerDoes) {
    import("configured", {},
           {{"Env",
             { "PATH=/bin",
               "GREETING=hi" }},
            {"Entrypoint",
             { "/bin/sh",
               "-c" }},
            {"Cmd",
             { "echo $GREETING; pwd; id -u; id -g" }},
            {"WorkingDir", "/srv"},
            { "User",
              "1000:1001" }});
    auto r = run({"configured"});  // Entrypoint + Cmd
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hi\n/srv\n1000\n1001\n");
    r = run({"configured", "echo args; echo $PATH"});  // Entrypoint + the arguments
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "args\n/bin\n");
    r = run({"-e", "GREETING=yo", "-w", "/tmp", "-u", "0", "configured"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "yo\n/tmp\n0\n0\n");
    expect_nothing_left();
}

// User names come from the image's own /etc/passwd and /etc/group, never the host's.
TEST_F(ImageRunTest, UserNamesAreLookedUpInTheImage) {
    auto etc = [](Tarball& t) {
        t.file("etc/passwd", "root:x:0:0::/:/bin/sh\napp:x:1234:2345::/:/bin/sh\n");
        t.file("etc/group", "root:x:0:\napp:x:2345:\nstaff:x:50:\n");
    };
    import("users", {etc}, {{"User", "app"}, { "Cmd", { "sh", "-c", "id -u; id -g" } }});
    auto r = run({"users"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "1234\n2345\n");
    r = run({"-u", "app:staff", "users"});
    EXPECT_EQ(r.out, "1234\n50\n") << r.err;
    r = run({"-u", "1234", "users"});  // a number alone: its passwd entry's group
    EXPECT_EQ(r.out, "1234\n2345\n") << r.err;
    r = run({"-u", "daemon", "users"});  // the host has one, the image does not
    EXPECT_EQ(r.status, 125);
    EXPECT_EQ(r.err,
              "sdrun run: unable to find user daemon: no matching entries in the image's "
              "/etc/passwd\n");
    expect_nothing_left();
}

// A symlink /etc/passwd would be read on the host, where it points at the host's files.
TEST_F(ImageRunTest, AUserLookupFollowsNoSymlink) {
    auto etc = [](Tarball& t) { t.symlink("etc/passwd", "/etc/passwd"); };
    import("linked", {etc}, {{"User", "root"}, { "Cmd", { "true" } }});
    auto r = run({"linked"});
    EXPECT_EQ(r.status, 125);
    EXPECT_EQ(r.err, "sdrun run: cannot look up users: /etc/passwd is a symlink in the image\n");
    EXPECT_EQ(run({"-u", "0:0", "linked"}).status, 0);
    expect_nothing_left();
}

TEST_F(ImageRunTest, AnImageForAnotherPlatformIsRefusedNamingBoth) {
    import("foreign", {}, {{ "Cmd", { "true" } }}, foreign_platform());
    auto r = run({"foreign"});
    EXPECT_EQ(r.status, 125);
    EXPECT_EQ(r.err, "sdrun run: image \"foreign\" is for " + foreign_platform() +
                         ", this host runs " + host_platform() + "\n");
    expect_nothing_left();
}

TEST_F(ImageRunTest, RmIsRefusedWhileARunningContainerUsesTheImage) {
    Background sdrun_bg(
        root, {"run", "--rm", "--name", id, "--pids-limit", "10", "busybox", "sleep", "600"});
    auto pids = wait_for_container_pids(id, 1);
    auto r = sdrun(root, {"image", "rm", "busybox"});
    EXPECT_EQ(r.status, 125);
    EXPECT_EQ(r.err, "sdrun image rm: image \"busybox\" is in use by container " + id +
                         "; remove the container first\n");
    ASSERT_EQ(kill(pids[0], SIGKILL), 0);
    EXPECT_EQ(sdrun_bg.wait().status, 137);
    expect_nothing_left();
    r = sdrun(root, {"image", "rm", "busybox"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(fs::is_empty(root / "layers/sha256"));
}

// A run that chose its image before an rm took it fails cleanly instead of mounting layers
// that are gone: the image is checked again under the store's lock when the run records it.
TEST_F(ImageRunTest, ARunWhoseImageIsRemovedMeanwhileFailsCleanly) {
    int fd = open((root / "images.lock").c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(flock(fd, LOCK_EX), 0);
    Background run_bg(root, {"run", "--rm", "--name", id, "busybox", "true"});
    ASSERT_TRUE(
        sdnet::test::eventually([&] { return someone_waits_for_lock(root / "images.lock"); }));
    fs::remove_all(root / "images/busybox");  // what an rm holding the lock does
    close(fd);
    auto r = run_bg.wait();
    EXPECT_EQ(r.status, 125);
    EXPECT_EQ(r.err,
              "sdrun run: image \"busybox\" was removed while the container was being "
              "set up\n");
    expect_nothing_left();
}

TEST_F(ImageRunTest, RmIsRefusedWhileAKeptContainerUsesTheImage) {
    const std::string kept = "kept" + id;
    ASSERT_EQ(sdrun(root, {"run", "--name", kept, "busybox", "true"}).status, 0);
    auto r = sdrun(root, {"image", "rm", "busybox"});
    EXPECT_EQ(r.status, 125);
    EXPECT_NE(r.err.find("in use by container " + kept), std::string::npos) << r.err;
    EXPECT_EQ(r.err_lines(), 1U);
    EXPECT_EQ(json::parse(sdrun(root, {"image", "ls", "--json"}).out).size(), 1U);
    fs::remove_all(root / "containers" / kept);
    EXPECT_EQ(sdrun(root, {"image", "rm", "busybox"}).status, 0);
}

// The default image scripts/setup writes is imported by the first run that names it; its layer
// is the busybox layer the fixture imported already (scripts/busybox-image is reproducible).
TEST_F(ImageRunTest, TheDefaultImageIsImportedOnFirstUse) {
    auto defaults = tmp / "defaults";
    fs::create_directory(defaults);
    fs::rename(busybox_image(tmp.path()), defaults / "bb.tar");
    auto env = std::vector<std::string>{"SDRUN_DEFAULT_IMAGES=" + defaults.string()};
    auto r = sdrun(root, {"run", "--rm", "--name", id, "bb", "echo", "hello"}, env);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hello\n");
    auto image = json::parse(sdrun(root, {"image", "inspect", "bb"}).out);
    EXPECT_EQ(image["config"]["Cmd"], json::array({"sh"}));
    EXPECT_EQ(image["layers"],
              json::parse(sdrun(root, {"image", "inspect", "busybox"}).out)["layers"]);
    r = sdrun(root, {"run", "--rm", "--name", id, "nosuch", "true"}, env);
    EXPECT_EQ(r.status, 125);
    EXPECT_EQ(r.err,
              "sdrun run: no such image \"nosuch\" (import one: sdrun image import nosuch FILE)\n");
    expect_nothing_left();
}

}  // namespace
}  // namespace sdrun_test
