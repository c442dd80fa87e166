// sdrun image import of OCI layouts and docker archives: digests checked, layers shared,
// platforms picked. The layouts are written by hand (oci_builder), the docker archives by skopeo.
#include <gtest/gtest.h>
#include <set>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/sdrun/oci_builder.hpp"
#include "tests/support/eventually.hpp"

namespace sdrun_test {
namespace {

class ImageLayoutTest : public ::testing::Test {
protected:
    TempDir tmp;
    fs::path root = tmp / "store";
    OciLayout layout{tmp / "layout"};
    const json config = {{"Env", {"PATH=/bin", "GREETING=hi"}},
                         {"Cmd", {"sh", "-c", "echo $GREETING"}},
                         {"WorkingDir", "/tmp"},
                         {"ExposedPorts", {{"80/tcp", json::object()}}}};

    Blob busybox_layer() { return layout.layer(busybox_tarball(tmp.path())); }

    Blob small_layer(const std::string& name) {
        return layout.layer([&](Tarball& t) { t.file(name, name + "\n"); });
    }

    Outcome import(const std::string& name, const fs::path& file,
                   const std::vector<std::string>& options = {}) {
        std::vector<std::string> args = {"image", "import"};
        args.insert(args.end(), options.begin(), options.end());
        args.insert(args.end(), {name, file.string()});
        return sdrun(root, args);
    }

    json inspect(const std::string& name) {
        auto r = sdrun(root, {"image", "inspect", name});
        EXPECT_EQ(r.status, 0) << r.err;
        return json::parse(r.out);
    }

    std::set<std::string> stored_layers() {
        std::set<std::string> out;
        if (fs::exists(root / "layers/sha256")) {
            for (const auto& e : fs::directory_iterator(root / "layers/sha256")) {
                out.insert("sha256:" + e.path().filename().string());
            }
        }
        return out;
    }

    // A refused import: exit 125, one line containing `reason`, nothing stored.
    void expect_refused(const Outcome& r, const std::string& reason) {
        EXPECT_EQ(r.status, 125);
        EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
        EXPECT_EQ(r.err_lines(), 1U) << r.err;
        EXPECT_EQ(stored_layers(), std::set<std::string>{});
        EXPECT_EQ(sdrun(root, {"image", "ls", "--json"}).out, "[]\n");
        if (fs::exists(root / "images")) {
            EXPECT_TRUE(fs::is_empty(root / "images"));
        }
    }
};

TEST_F(ImageLayoutTest, ImportsATarOfAnOciLayoutWithItsConfig) {
    auto base = busybox_layer();
    auto manifest = layout.image({base}, config);
    layout.index({{manifest, ""}});
    auto r = import("web", layout.tar(tmp / "layout.tar"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "web " + manifest.digest + "\nlayer " + base.diff_id + " unpacked\n");
    auto image = inspect("web");
    EXPECT_EQ(image["format"], "oci");
    EXPECT_EQ(image["digest"], manifest.digest);
    EXPECT_EQ(image["id"], layout.config_digest(manifest));
    EXPECT_EQ(image["layers"], json::array({base.diff_id}));  // docker's RootFS.Layers
    EXPECT_EQ(image["config"], config);
    EXPECT_EQ(image["os"], "linux");
    EXPECT_EQ(image["architecture"], "amd64");
    EXPECT_EQ(image["created"], "2024-01-02T03:04:05Z");
    EXPECT_TRUE(
        fs::is_regular_file(root / "layers/sha256" / base.diff_id.substr(7) / "diff/bin/busybox"));
}

TEST_F(ImageLayoutTest, ImportsAnOciLayoutDirectory) {
    auto manifest = layout.image({small_layer("a")}, config);
    layout.index({{manifest, host_platform()}});
    auto r = import("dir", layout.dir());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(inspect("dir")["digest"], manifest.digest);
}

TEST_F(ImageLayoutTest, ImportsADockerArchiveWrittenBySkopeo) {
    auto base = busybox_layer();
    auto top = small_layer("etc/motd");
    layout.index({{layout.image({base, top}, config), ""}});
    auto archive = docker_archive(layout, tmp / "docker.tar");
    auto r = import("saved", archive);
    ASSERT_EQ(r.status, 0) << r.err;
    auto image = inspect("saved");
    EXPECT_EQ(image["format"], "docker-archive");
    EXPECT_EQ(image["id"], image["digest"]);
    // A docker archive's layers are its uncompressed tars, named by their diff ids.
    EXPECT_EQ(image["layers"], json::array({base.diff_id, top.diff_id}));
    EXPECT_EQ(image["config"], config);
    EXPECT_TRUE(
        fs::is_regular_file(root / "layers/sha256" / base.diff_id.substr(7) / "diff/bin/busybox"));
    EXPECT_EQ(
        sdnet::test::read_file(root / "layers/sha256" / top.diff_id.substr(7) / "diff/etc/motd"),
        "etc/motd\n");
}

// docker 25 saves an OCI layout with a manifest.json that names blobs: read as a docker archive.
TEST_F(ImageLayoutTest, ImportsADockerArchiveWithBlobs) {
    auto a = small_layer("a");
    auto b = small_layer("b");
    auto manifest = layout.image({a, b}, config);
    layout.index({{manifest, ""}});
    auto config_digest = layout.config_digest(manifest);
    auto blob = [](const std::string& digest) { return "blobs/sha256/" + digest.substr(7); };
    sdnet::test::write_file(layout.dir() / "manifest.json",
                            json::array({{{"Config", blob(config_digest)},
                                          {"RepoTags", {"test:latest"}},
                                          {"Layers", {blob(a.digest), blob(b.digest)}}}})
                                .dump());
    auto r = import("saved", layout.tar(tmp / "docker25.tar"));
    ASSERT_EQ(r.status, 0) << r.err;
    auto image = inspect("saved");
    EXPECT_EQ(image["format"], "docker-archive");
    EXPECT_EQ(image["id"], config_digest);
    EXPECT_EQ(image["layers"], json::array({a.diff_id, b.diff_id}));
    EXPECT_EQ(sdnet::test::read_file(root / "layers/sha256" / b.diff_id.substr(7) / "diff/b"),
              "b\n");
}

TEST_F(ImageLayoutTest, RefusesALayerWhoseContentDoesNotMatchItsDigest) {
    auto good = small_layer("a");
    auto bad = small_layer("b");
    layout.index({{layout.image({good, bad}, config), ""}});
    // Same size, other content: only the hash can tell.
    Tarball(layout.blob_path(bad)).file("c", "c\n");
    auto r = import("bad", layout.tar(tmp / "layout.tar"));
    expect_refused(r, "layer 2 " + bad.digest + " does not match its digest");
}

TEST_F(ImageLayoutTest, RefusesAMissingBlobAndASizeThatDiffers) {
    auto layer = small_layer("a");
    layout.index({{layout.image({layer}, config), ""}});
    auto blob = layout.blob_path(layer);
    fs::rename(blob, tmp / "aside");
    expect_refused(import("bad", layout.dir()),
                   "layer 1 " + layer.digest + " is missing from the layout");
    sdnet::test::write_file(blob, "short");
    expect_refused(import("bad", layout.dir()), "layer 1 " + layer.digest +
                                                    " has 5 bytes, its descriptor says " +
                                                    std::to_string(layer.size));
}

// The blob is what its manifest says, but the config names another diff id for its content.
TEST_F(ImageLayoutTest, RefusesALayerWhoseContentDoesNotMatchItsDiffId) {
    auto base = busybox_layer();
    auto lying = base;
    lying.diff_id = small_layer("a").diff_id;
    layout.index({{layout.image({lying}, config), ""}});
    expect_refused(import("bad", layout.dir()),
                   "layer 1 does not match its diff id in the image config: expected " +
                       lying.diff_id + ", uncompressed content is " + base.diff_id);
}

// Layers are stored by diff id: the gzip layer of an OCI layout and the plain tar skopeo writes
// into a docker archive are one layer.
TEST_F(ImageLayoutTest, AnOciImageAndItsDockerArchiveShareTheirLayer) {
    auto base = busybox_layer();
    layout.index({{layout.image({base}, config), ""}});
    ASSERT_EQ(import("oci", layout.dir()).status, 0);
    auto r = import("docker", docker_archive(layout, tmp / "docker.tar"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("layer " + base.diff_id + " already present\n"), std::string::npos)
        << r.out;
    EXPECT_EQ(stored_layers(), std::set<std::string>{base.diff_id});
}

TEST_F(ImageLayoutTest, RefusesATamperedDockerArchiveLayer) {
    layout.index({{layout.image({small_layer("a")}, config), ""}});
    auto archive = docker_archive(layout, tmp / "docker.tar");
    auto unpacked = tmp / "unpacked";
    fs::create_directory(unpacked);
    ASSERT_EQ(
        sdnet::test::run_process({"/bin/tar", "-C", unpacked.string(), "-xf", archive.string()})
            .status,
        0);
    int tampered = 0;
    for (const auto& e : fs::directory_iterator(unpacked)) {
        if (e.path().extension() == ".tar") {
            Tarball(e.path()).file("evil", "evil\n");
            ++tampered;
        }
    }
    ASSERT_EQ(tampered, 1);
    auto repacked = tmp / "repacked.tar";
    ASSERT_EQ(sdnet::test::run_process(
                  {"/bin/tar", "-C", unpacked.string(), "-cf", repacked.string(), "."})
                  .status,
              0);
    expect_refused(import("bad", repacked), "does not match its digest");
}

TEST_F(ImageLayoutTest, RefusesADigestThatIsNoSha256) {
    auto manifest = layout.image({small_layer("a")}, config);
    auto index = manifest.descriptor();
    index["digest"] = "sha256:../../../../etc/passwd";
    sdnet::test::write_file(layout.dir() / "index.json",
                            json({{"schemaVersion", 2}, {"manifests", {index}}}).dump());
    expect_refused(import("bad", layout.dir()),
                   "unsupported digest \"sha256:../../../../etc/passwd\"");
}

TEST_F(ImageLayoutTest, ImagesShareTheirCommonLayersAndRmRemovesOnlyUnusedOnes) {
    auto base = busybox_layer();
    auto a = small_layer("a");
    auto b = small_layer("b");
    OciLayout other(tmp / "other");
    layout.index({{layout.image({base, a}, config), ""}});
    ASSERT_EQ(import("one", layout.dir()).status, 0);
    struct stat before = {};
    auto shared = root / "layers/sha256" / base.diff_id.substr(7) / "diff";
    ASSERT_EQ(stat(shared.c_str(), &before), 0);

    // The second layout holds the same base layer blob.
    fs::copy_file(layout.blob_path(base), other.blob_path(base));
    fs::copy_file(layout.blob_path(b), other.blob_path(b));
    auto second = other.image({base, b}, config);
    other.index({{second, ""}});
    auto r = import("two", other.dir());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "two " + second.digest + "\nlayer " + base.diff_id +
                         " already present\nlayer " + b.diff_id + " unpacked\n");
    struct stat after = {};
    ASSERT_EQ(stat(shared.c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino);  // the same directory, not unpacked again
    EXPECT_EQ(stored_layers(), (std::set<std::string>{base.diff_id, a.diff_id, b.diff_id}));

    ASSERT_EQ(sdrun(root, {"image", "rm", "one"}).status, 0);
    EXPECT_EQ(stored_layers(), (std::set<std::string>{base.diff_id, b.diff_id}));
    ASSERT_EQ(sdrun(root, {"image", "rm", "two"}).status, 0);
    EXPECT_EQ(stored_layers(), std::set<std::string>{});
}

// rm waits for the store's lock (an import committing, a run choosing its image) before it
// looks at the store.
TEST_F(ImageLayoutTest, RmWaitsForTheStoreLock) {
    layout.index({{layout.image({small_layer("a")}, config), ""}});
    ASSERT_EQ(import("one", layout.dir()).status, 0);
    int fd = open((root / "images.lock").c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(flock(fd, LOCK_EX), 0);
    Background rm(root, {"image", "rm", "one"});
    EXPECT_TRUE(
        sdnet::test::eventually([&] { return someone_waits_for_lock(root / "images.lock"); }));
    EXPECT_TRUE(fs::exists(root / "images/one/image.json"));
    close(fd);
    EXPECT_EQ(rm.wait().status, 0);
    EXPECT_FALSE(fs::exists(root / "images/one"));
}

// A hand-made multi-platform index: the host's image by default, another with --platform.
TEST_F(ImageLayoutTest, PicksTheManifestOfTheHostOrOfPlatform) {
    auto native = layout.image({small_layer("native")}, config, host_platform());
    auto foreign = layout.image({small_layer("foreign")}, config, foreign_platform());
    layout.index({{foreign, foreign_platform()}, {native, host_platform()}});
    auto tar = layout.tar(tmp / "multi.tar");

    ASSERT_EQ(import("native", tar).status, 0);
    EXPECT_EQ(inspect("native")["digest"], native.digest);
    auto r = import("foreign", tar, {"--platform", foreign_platform()});
    ASSERT_EQ(r.status, 0) << r.err;
    auto image = inspect("foreign");
    EXPECT_EQ(image["digest"], foreign.digest);
    EXPECT_EQ("linux/" + image["architecture"].get<std::string>(), foreign_platform());

    r = import("s390x", tar, {"--platform", "linux/s390x"});
    EXPECT_EQ(r.status, 125);
    EXPECT_NE(r.err.find("no image for linux/s390x (the file has " + foreign_platform() + ", " +
                         host_platform() + ")"),
              std::string::npos)
        << r.err;
    r = import("typo", tar, {"--platform", "arm64"});
    EXPECT_EQ(r.status, 125);
    EXPECT_NE(r.err.find("invalid platform \"arm64\""), std::string::npos) << r.err;
}

// An index of indexes (as registries serve multi-platform images) is walked.
TEST_F(ImageLayoutTest, WalksANestedIndex) {
    auto native = layout.image({small_layer("native")}, config, host_platform());
    auto foreign = layout.image({small_layer("foreign")}, config, foreign_platform());
    auto nested = layout.index_blob({{foreign, foreign_platform()}, {native, host_platform()}});
    layout.index({{nested, ""}});
    auto r = import("nested", layout.dir());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(inspect("nested")["digest"], native.digest);
}

// No platform in the index: the config says which; an image only for another machine is
// refused naming both.
TEST_F(ImageLayoutTest, RefusesAnImageForAnotherPlatformNamingBoth) {
    layout.index({{layout.image({small_layer("a")}, config, foreign_platform()), ""}});
    expect_refused(import("foreign", layout.tar(tmp / "foreign.tar")),
                   "no image for this host's platform " + host_platform() + " (the file has " +
                       foreign_platform() + "); pick one with --platform");
}

}  // namespace
}  // namespace sdrun_test
