// sdrun image import/ls/rm on a temporary store, run as a user would.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/sdrun/support.hpp"

namespace sdrun_test {
namespace {

using nlohmann::json;

class ImageTest : public ::testing::Test {
protected:
    TempDir tmp;
    fs::path root = tmp / "store";

    json image_list() {
        auto r = sdrun(root, {"image", "ls", "--json"});
        EXPECT_EQ(r.status, 0) << r.err;
        return json::parse(r.out);
    }

    // Imports `tarball` as "bad", expecting a refusal whose message contains `reason`.
    void expect_refused(const fs::path& tarball, const std::string& reason) {
        auto r = sdrun(root, {"image", "import", "bad", tarball.string()});
        EXPECT_EQ(r.status, 125);
        EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
        EXPECT_EQ(r.err_lines(), 1U) << r.err;
        EXPECT_EQ(image_list(), json::array());
        EXPECT_FALSE(fs::exists(root / "images" / "bad"));
    }
};

TEST_F(ImageTest, ImportRecordsTheTarballsSha256AndListsIt) {
    auto tarball = busybox_tarball(tmp.path());
    auto r = sdrun(root, {"image", "import", "busybox", tarball.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    auto digest = sha256sum(tarball);
    EXPECT_EQ(r.out, "busybox " + digest + "\n");
    auto list = image_list();
    ASSERT_EQ(list.size(), 1U);
    EXPECT_EQ(list[0]["name"], "busybox");
    EXPECT_EQ(list[0]["digest"], digest);
    EXPECT_TRUE(fs::is_regular_file(root / "images/busybox/rootfs/bin/busybox"));
    EXPECT_EQ(fs::read_symlink(root / "images/busybox/rootfs/bin/sh"), "busybox");
    auto meta = json::parse(sdnet::test::read_file(root / "images/busybox/image.json"));
    EXPECT_EQ(meta["digest"], digest);
}

TEST_F(ImageTest, ImportRefusesAnExistingName) {
    auto tarball = busybox_tarball(tmp.path());
    ASSERT_EQ(sdrun(root, {"image", "import", "busybox", tarball.string()}).status, 0);
    auto r = sdrun(root, {"image", "import", "busybox", tarball.string()});
    EXPECT_EQ(r.status, 125);
    EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
}

TEST_F(ImageTest, RmRemovesTheImageAndRefusesAnUnknownOne) {
    auto tarball = busybox_tarball(tmp.path());
    ASSERT_EQ(sdrun(root, {"image", "import", "busybox", tarball.string()}).status, 0);
    EXPECT_EQ(sdrun(root, {"image", "rm", "busybox"}).status, 0);
    EXPECT_EQ(image_list(), json::array());
    EXPECT_FALSE(fs::exists(root / "images/busybox"));
    auto r = sdrun(root, {"image", "rm", "busybox"});
    EXPECT_EQ(r.status, 125);
    EXPECT_NE(r.err.find("no such image \"busybox\""), std::string::npos) << r.err;
}

TEST_F(ImageTest, ImportRefusesADotDotEntry) {
    Tarball t(tmp / "dotdot.tar");
    t.dir("etc");
    t.file("../x", "escaped\n");
    expect_refused(t.close(), "\"../x\": it escapes the rootfs");
    EXPECT_FALSE(fs::exists(root / "images" / "x"));
    EXPECT_FALSE(fs::exists(root / "x"));
}

TEST_F(ImageTest, ImportRefusesAnAbsolutePath) {
    auto outside = tmp / "outside";
    Tarball t(tmp / "absolute.tar");
    t.file(outside.string(), "escaped\n");
    expect_refused(t.close(), "escapes the rootfs");
    EXPECT_FALSE(fs::exists(outside));
}

// An absolute symlink in the image, then a file written through it: extracting naively writes
// on the host (the classic tar-slip through a symlink).
TEST_F(ImageTest, ImportRefusesAWriteThroughAnAbsoluteSymlink) {
    auto outside = tmp / "outside";
    fs::create_directory(outside);
    Tarball t(tmp / "symlink.tar");
    t.symlink("etc", outside.string());
    t.file("etc/passwd", "root::0:0::/:/bin/sh\n");
    expect_refused(t.close(), "\"etc/passwd\"");
    EXPECT_FALSE(fs::exists(outside / "passwd"));
}

TEST_F(ImageTest, ImportRefusesADeviceNode) {
    Tarball t(tmp / "device.tar");
    t.dir("dev");
    t.char_device("dev/mem", 1, 1);
    expect_refused(t.close(), "refusing device node \"dev/mem\"");
}

TEST_F(ImageTest, ImportRefusesABadNameAndAMissingFile) {
    auto r = sdrun(root, {"image", "import", "../evil", "/dev/null"});
    EXPECT_EQ(r.status, 125);
    EXPECT_NE(r.err.find("invalid image name"), std::string::npos) << r.err;
    r = sdrun(root, {"image", "import", "ok", (tmp / "missing.tar").string()});
    EXPECT_EQ(r.status, 125);
    EXPECT_NE(r.err.find("not a file"), std::string::npos) << r.err;
    EXPECT_EQ(image_list(), json::array());
}

}  // namespace
}  // namespace sdrun_test
