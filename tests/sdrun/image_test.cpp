// sdrun image import/ls/rm on a temporary store, run as a user would.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/sdrun/oci_builder.hpp"

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
        EXPECT_TRUE(!fs::exists(root / "layers/sha256") || fs::is_empty(root / "layers/sha256"));
    }
};

// A rootfs tarball is an image of one layer; the image is named by the tarball's digest, the
// layer by its uncompressed content's (its diff id).
TEST_F(ImageTest, ImportRecordsTheTarballsSha256AndListsIt) {
    auto tarball = busybox_tarball(tmp.path());
    auto r = sdrun(root, {"image", "import", "busybox", tarball.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    auto digest = sha256sum(tarball);
    auto diff_id = gunzipped_sha256(tarball);
    EXPECT_EQ(r.out, "busybox " + digest + "\nlayer " + diff_id + " unpacked\n");
    auto list = image_list();
    ASSERT_EQ(list.size(), 1U);
    EXPECT_EQ(list[0]["name"], "busybox");
    EXPECT_EQ(list[0]["digest"], digest);
    auto layer = root / "layers/sha256" / diff_id.substr(7) / "diff";
    EXPECT_TRUE(fs::is_regular_file(layer / "bin/busybox"));
    EXPECT_EQ(fs::read_symlink(layer / "bin/sh"), "busybox");
    auto image = json::parse(sdrun(root, {"image", "inspect", "busybox"}).out);
    EXPECT_EQ(image["digest"], digest);
    EXPECT_EQ(image["format"], "rootfs");
    EXPECT_EQ(image["layers"], json::array({diff_id}));
}

TEST_F(ImageTest, ImportsZstdAndXzCompressedTarballs) {
    for (const std::string filter : {"zstd", "xz"}) {
        Tarball t(tmp / ("rootfs.tar." + filter), filter);
        t.file("etc/hello", filter + "\n");
        auto r = sdrun(root, {"image", "import", filter, t.close().string()});
        ASSERT_EQ(r.status, 0) << r.err;
        auto image = json::parse(sdrun(root, {"image", "inspect", filter}).out);
        auto layer = image["layers"][0].get<std::string>().substr(7);
        EXPECT_EQ(sdnet::test::read_file(root / "layers/sha256" / layer / "diff/etc/hello"),
                  filter + "\n");
    }
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

// link(2) follows a symlink on the way to its target: "etc" -> /etc would link the host's file.
TEST_F(ImageTest, ImportRefusesAHardLinkThroughASymlink) {
    auto outside = tmp / "outside";
    fs::create_directory(outside);
    sdnet::test::write_file(outside / "secret", "host\n");
    Tarball t(tmp / "hardlink.tar");
    t.symlink("etc", outside.string());
    t.hardlink("stolen", "etc/secret");
    expect_refused(t.close(),
                   "refusing hard link \"stolen\": its target is reached through the "
                   "symlink etc");
    EXPECT_EQ(fs::hard_link_count(outside / "secret"), 1U);
}

TEST_F(ImageTest, ImportRefusesAHardLinkOut) {
    Tarball t(tmp / "hardlink.tar");
    t.hardlink("stolen", "../../etc/passwd");
    expect_refused(t.close(), "refusing hard link \"stolen\": its target escapes the rootfs");
}

TEST_F(ImageTest, ImportRefusesAWhiteoutThatNamesNoFile) {
    Tarball t(tmp / "whiteout.tar");
    t.file("etc/.wh..", "");
    expect_refused(t.close(), "refusing whiteout \"etc/.wh..\"");
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
