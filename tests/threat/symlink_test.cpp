// Symlinks planted where sdnet keeps state (host-local's data dir, libcni's result cache): an
// attacker who could plant them could already write there as root, but a mistake or a stale
// mount must not turn a plugin call into a write to an arbitrary file. Every file under those
// directories is opened without following symlinks; each test plants one and checks the file it
// points to is untouched.
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>

#include <unistd.h>

#include "plugins/cni/error.hpp"
#include "plugins/cni/exec.hpp"
#include "runtime/libcni/cache.hpp"
#include "runtime/libcni/error.hpp"

namespace {

namespace fs = std::filesystem;

class PlantedSymlink : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("sdnet-threat-" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        victim_ = dir_ / "victim";
        std::ofstream(victim_) << "victim\n";
    }

    void TearDown() override { fs::remove_all(dir_); }

    std::string victim_text() const {
        std::ifstream in(victim_);
        return {std::istreambuf_iterator<char>(in), {}};
    }

    nlohmann::json host_local(const std::string& command, const std::string& id) const {
        auto envp = cni::plugin_environment({cni::parse_command(command).value(), id,
                                             "/proc/self/ns/net", "eth0", "", SDNET_PLUGIN_DIR});
        std::string conf = R"({"cniVersion":"1.0.0","name":"net","type":"host-local",
            "ipam":{"type":"host-local","subnet":"10.9.0.0/29","dataDir":")" +
                           (dir_ / "ipam").string() + R"("}})";
        return cni::exec_plugin(std::string{SDNET_PLUGIN_DIR} + "/host-local", envp, conf);
    }

    fs::path dir_;
    fs::path victim_;
};

// A reservation file named as the next free address, and host-local's last-reserved record,
// both pointing at another file: the ADD neither reads through nor writes through them.
TEST_F(PlantedSymlink, HostLocalNeverWritesThroughOne) {
    fs::path net = dir_ / "ipam" / "net";
    fs::create_directories(net);
    fs::create_symlink(victim_, net / "10.9.0.2");
    fs::create_symlink(victim_, net / "last_reserved_ip.0");
    std::string address;
    try {
        auto out = host_local("ADD", "c1");
        address = out["ips"][0]["address"];
    } catch (const cni::Error& e) {
        ADD_FAILURE() << "ADD failed: " << e.what();
    }
    EXPECT_NE(address, "10.9.0.2/29");  // a name that exists is taken, whatever it is
    (void)host_local("DEL", "c1");
    EXPECT_EQ(victim_text(), "victim\n");
    EXPECT_TRUE(fs::is_symlink(net / "10.9.0.2"));  // DEL of another holder leaves it alone
}

// A result-cache entry that is a symlink is refused, not read: the file it names could be
// anything (libcni follows it; sdnet reports the entry as unreadable instead).
TEST_F(PlantedSymlink, CacheEntryIsNotReadThroughOne) {
    libcni::ResultCache cache(dir_ / "cache");
    libcni::CacheEntry valid;
    valid.container_id = "c1";
    valid.network = "net";
    valid.ifname = "eth0";
    valid.config = R"({"cniVersion":"1.0.0","name":"net","plugins":[]})";
    std::ofstream(victim_) << libcni::encode_cache(valid);  // readable, were it followed
    fs::path entry = cache.path_for("net", "c1", "eth0");
    fs::create_directories(entry.parent_path());
    fs::create_symlink(victim_, entry);
    EXPECT_THROW((void)cache.read("net", "c1", "eth0"), libcni::Error);
}

// Writing a cache entry over a planted symlink replaces the symlink (a temporary file renamed
// into place), it does not write into what it points to.
TEST_F(PlantedSymlink, CacheWriteReplacesOne) {
    libcni::ResultCache cache(dir_ / "cache");
    fs::path entry = cache.path_for("net", "c1", "eth0");
    fs::create_directories(entry.parent_path());
    fs::create_symlink(victim_, entry);
    libcni::CacheEntry e;
    e.container_id = "c1";
    e.network = "net";
    e.ifname = "eth0";
    e.config = R"({"cniVersion":"1.0.0","name":"net","plugins":[]})";
    cache.write(e);
    EXPECT_FALSE(fs::is_symlink(entry));
    EXPECT_EQ(victim_text(), "victim\n");
}

}  // namespace
