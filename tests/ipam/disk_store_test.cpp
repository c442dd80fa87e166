#include "ipam/disk_store.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>
#include <time.h>
#include <utility>

#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/temp_dir.hpp"

namespace ipam {
namespace {

namespace fs = std::filesystem;
using netlib::IpAddr;
using sdnet::test::read_file;
using sdnet::test::write_file;

IpAddr ip(const char* s) {
    return IpAddr::parse(s);
}

const Attachment kA{"ctr-a", "eth0"};
const Attachment kB{"ctr-b", "eth0"};

class DiskStoreTest : public ::testing::Test {
protected:
    sdnet::test::TempDir tmp_;
    fs::path net_ = tmp_.path() / "net1";

    DiskStore store(DiskStoreOptions o = {}) { return DiskStore::create(tmp_.path(), "net1", o); }

    std::vector<std::string> private_files() {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(net_ / ".sdnet")) {
            out.push_back(e.path().filename());
        }
        std::sort(out.begin(), out.end());
        return out;
    }
};

TEST_F(DiskStoreTest, ReferenceLayout) {
    auto s = store();
    {
        StoreLock lock{s};
        EXPECT_TRUE(s.reserve(kA, ip("10.0.0.2"), 0));
        EXPECT_TRUE(s.reserve(kA, ip("fd00::2"), 1));
    }
    EXPECT_EQ(read_file(net_ / "10.0.0.2"), "ctr-a\r\neth0");
    EXPECT_EQ(read_file(net_ / "fd00::2"), "ctr-a\r\neth0");
    EXPECT_EQ(read_file(net_ / "last_reserved_ip.0"), "10.0.0.2");
    EXPECT_EQ(read_file(net_ / "last_reserved_ip.1"), "fd00::2");
    EXPECT_TRUE(fs::exists(net_ / "lock"));
    EXPECT_EQ(fs::status(net_ / "10.0.0.2").permissions(),
              fs::perms::owner_read | fs::perms::owner_write);
    // Our private state: the index, the stamp, and no temp file left.
    EXPECT_EQ(private_files(), (std::vector<std::string>{"by-id", "snapshot", "stamp"}));
    std::string index = read_file(net_ / ".sdnet/by-id/ctr-a@eth0");
    EXPECT_EQ(index, "sdnet host-local index v1\nctr-a@eth0\n10.0.0.2\nfd00::2\n");
}

TEST_F(DiskStoreTest, ReserveFindRelease) {
    auto s = store();
    StoreLock lock{s};
    EXPECT_TRUE(s.reserve(kA, ip("10.0.0.2"), 0));
    EXPECT_FALSE(s.reserve(kB, ip("10.0.0.2"), 0));  // taken: link() says EEXIST
    EXPECT_TRUE(s.reserve(kB, ip("10.0.0.3"), 0));
    EXPECT_EQ(s.last_reserved(0), ip("10.0.0.3"));
    EXPECT_EQ(s.find(kA), (std::vector<IpAddr>{ip("10.0.0.2")}));
    EXPECT_TRUE(s.find({"nobody", "eth0"}).empty());
    EXPECT_FALSE(s.release(ip("10.0.0.2"), kB));  // not B's
    EXPECT_TRUE(s.release(ip("10.0.0.2"), kA));
    EXPECT_FALSE(fs::exists(net_ / "10.0.0.2"));
    EXPECT_TRUE(s.find(kA).empty());
    EXPECT_FALSE(fs::exists(net_ / ".sdnet/by-id/ctr-a@eth0"));
    EXPECT_EQ(s.release_all(kB), (std::vector<IpAddr>{ip("10.0.0.3")}));
    EXPECT_TRUE(s.release_all(kB).empty());
}

TEST_F(DiskStoreTest, NoLockNoAccess) {
    auto s = store();
    EXPECT_THROW(s.find(kA), std::logic_error);
    EXPECT_THROW(s.list(), std::logic_error);
}

TEST_F(DiskStoreTest, CommonPathTrustsTheStamp) {
    auto s = store();
    {
        StoreLock lock{s};
        s.reserve(kA, ip("10.0.0.2"), 0);
        EXPECT_TRUE(s.rebuilt());  // first use: no stamp yet
    }
    for (int i = 0; i < 3; ++i) {
        StoreLock lock{s};
        EXPECT_EQ(s.find(kA).size(), 1u);
        auto addr = IpAddr::parse("10.0.0." + std::to_string(3 + i));
        EXPECT_TRUE(s.reserve({"c" + std::to_string(i), "eth0"}, addr, 0));
        EXPECT_FALSE(s.rebuilt());
    }
    // A fresh store object (another process) trusts it too.
    auto other = store();
    StoreLock lock{other};
    EXPECT_EQ(other.find(kA).size(), 1u);
    EXPECT_FALSE(other.rebuilt());
}

// Waits until the coarse clock that stamps file times has passed `dir`'s last change, so the
// next change gets a new timestamp also on kernels before 6.13, whose directory timestamps are
// per clock tick (see disk_store.hpp; 6.13+ notices a change in the same tick). One tick, a few
// milliseconds; the deadline only turns a stuck clock into a failure.
void wait_past_last_change(const fs::path& dir) {
    struct stat st {};

    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    timespec now{};
    do {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the clock does not advance";
        ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
    } while (std::pair{now.tv_sec, now.tv_nsec} <=
             std::pair{st.st_ctim.tv_sec, st.st_ctim.tv_nsec});
}

// What the reference does on ADD: O_EXCL file with the holder, then last_reserved_ip.
void foreign_reserve(const fs::path& net, const std::string& addr, const std::string& content) {
    wait_past_last_change(net);
    write_file(net / addr, content);
    write_file(net / "last_reserved_ip.0", addr);
}

TEST_F(DiskStoreTest, SeesReservationsMadeByTheReference) {
    auto s = store();
    {
        StoreLock lock{s};
        s.reserve(kA, ip("10.0.0.2"), 0);
    }
    foreign_reserve(net_, "10.0.0.3", "ctr-b\r\neth0");
    StoreLock lock{s};
    EXPECT_EQ(s.find(kB), (std::vector<IpAddr>{ip("10.0.0.3")}));
    EXPECT_TRUE(s.rebuilt());
    EXPECT_EQ(s.find(kA), (std::vector<IpAddr>{ip("10.0.0.2")}));
}

TEST_F(DiskStoreTest, SeesAForeignChangeThatKeepsLastReservedIdentical) {
    auto s = store();
    {
        StoreLock lock{s};
        s.reserve(kA, ip("10.0.0.2"), 0);
    }
    wait_past_last_change(net_);
    write_file(net_ / "10.0.0.9", "ctr-b\r\neth0");  // only the directory changes
    StoreLock lock{s};
    EXPECT_EQ(s.find(kB).size(), 1u);
}

// Before Linux 6.13 a foreign reservation made in the clock tick of our last change leaves the
// directory's timestamps as our stamp recorded them. Writing it while our session holds the
// store (the reference would wait for the lock; this test does not) gives the same state on
// every kernel: a stamp that vouches for a directory holding an attachment the index lacks.
// DEL must still release it; ADD and CHECK of indexed attachments keep trusting the stamp.
TEST_F(DiskStoreTest, DelReleasesAForeignReservationTheStampMissed) {
    auto s = store();
    {
        StoreLock lock{s};
        s.reserve(kA, ip("10.0.0.2"), 0);
        write_file(net_ / "10.0.0.9",
                   "ctr-b\r\neth0");  // inside our tick, as far as the stamp sees
        write_file(net_ / "10.0.0.10", "old-ctr\n");
    }
    StoreLock lock{s};
    EXPECT_EQ(s.find(kA), (std::vector<IpAddr>{ip("10.0.0.2")}));
    EXPECT_FALSE(s.rebuilt());  // the stamp matched: the index alone did not know kB
    EXPECT_EQ(s.release_all(kB), (std::vector<IpAddr>{ip("10.0.0.9")}));
    EXPECT_TRUE(s.release_all({"old-ctr", "eth0"}).empty());
    EXPECT_EQ(s.release_all({"old-ctr", ""}), (std::vector<IpAddr>{ip("10.0.0.10")}));
    EXPECT_FALSE(fs::exists(net_ / "10.0.0.9"));
    EXPECT_FALSE(fs::exists(net_ / "10.0.0.10"));
    EXPECT_TRUE(fs::exists(net_ / "10.0.0.2"));
}

TEST_F(DiskStoreTest, ForeignReleaseIsHarmless) {
    auto s = store();
    {
        StoreLock lock{s};
        s.reserve(kA, ip("10.0.0.2"), 0);
        s.reserve(kA, ip("fd00::2"), 1);
    }
    fs::remove(net_ / "10.0.0.2");  // the reference's DEL walks and removes matching files
    StoreLock lock{s};
    EXPECT_EQ(s.find(kA), (std::vector<IpAddr>{ip("fd00::2")}));
    EXPECT_TRUE(s.reserve(kB, ip("10.0.0.2"), 0));
    EXPECT_TRUE(s.find(kA).size() == 1u);
}

TEST_F(DiskStoreTest, RecoversFromACrashMidReservation) {
    auto s = store();
    {
        StoreLock lock{s};
        s.reserve(kA, ip("10.0.0.2"), 0);
    }
    // A crashed reserve(): the stamp is gone, a temp file is left, and a reservation was linked
    // but not indexed.
    write_file(net_ / ".sdnet/stamp", "!" + read_file(net_ / ".sdnet/stamp").substr(1));
    write_file(net_ / ".sdnet/tmp-999-0000000000000001", "ctr-b\r\neth");
    write_file(net_ / "10.0.0.3", "ctr-b\r\neth0");
    StoreLock lock{s};
    EXPECT_EQ(s.find(kB), (std::vector<IpAddr>{ip("10.0.0.3")}));
    EXPECT_TRUE(s.rebuilt());
    EXPECT_FALSE(fs::exists(net_ / ".sdnet/tmp-999-0000000000000001"));
}

TEST_F(DiskStoreTest, NamedTempFallback) {
    auto s = store({.range_sets = 1, .durable = true, .named_temps = true});
    {
        StoreLock lock{s};
        EXPECT_TRUE(s.reserve(kA, ip("10.0.0.2"), 0));
        EXPECT_FALSE(s.reserve(kB, ip("10.0.0.2"), 0));
        EXPECT_TRUE(s.reserve(kB, ip("10.0.0.3"), 0));
    }
    EXPECT_EQ(read_file(net_ / "10.0.0.3"), "ctr-b\r\neth0");
    EXPECT_EQ(private_files(), (std::vector<std::string>{"by-id", "snapshot", "stamp"}));
}

TEST_F(DiskStoreTest, RebuildWritesOneSnapshotAndDropsStaleDeltas) {
    auto s = store();
    {
        StoreLock lock{s};
        s.reserve(kA, ip("10.0.0.2"), 0);
        s.reserve(kB, ip("10.0.0.3"), 0);
    }
    fs::remove(net_ / "10.0.0.3");  // B's only address, released by the reference
    foreign_reserve(net_, "10.0.0.9", "ctr-c\r\neth0");
    {
        StoreLock lock{s};
        EXPECT_EQ(s.find({"ctr-c", "eth0"}), (std::vector<IpAddr>{ip("10.0.0.9")}));
        EXPECT_TRUE(s.rebuilt());
    }
    EXPECT_TRUE(fs::exists(net_ / ".sdnet/by-id/ctr-a@eth0"));
    EXPECT_FALSE(fs::exists(net_ / ".sdnet/by-id/ctr-b@eth0"));
    EXPECT_FALSE(fs::exists(net_ / ".sdnet/by-id/ctr-c@eth0"));  // in the snapshot only
    EXPECT_EQ(read_file(net_ / ".sdnet/snapshot"),
              "sdnet host-local snapshot v1\nctr-a@eth0 10.0.0.2\nctr-c@eth0 10.0.0.9\nend\n");
    StoreLock lock{s};
    EXPECT_FALSE(s.rebuilt());
    EXPECT_EQ(s.release_all({"ctr-c", "eth0"}), (std::vector<IpAddr>{ip("10.0.0.9")}));
    // The snapshot still names it, but a hint that no longer holds is ignored.
    EXPECT_TRUE(s.find({"ctr-c", "eth0"}).empty());
    EXPECT_TRUE(s.release_all({"ctr-c", "eth0"}).empty());
}

TEST_F(DiskStoreTest, TornSnapshotTriggersARebuild) {
    auto s = store();
    foreign_reserve(net_, "10.0.0.9", "ctr-c\r\neth0");
    {
        StoreLock lock{s};
        EXPECT_EQ(s.find({"ctr-c", "eth0"}).size(), 1u);
    }
    auto snap = read_file(net_ / ".sdnet/snapshot");
    write_file(net_ / ".sdnet/snapshot", snap.substr(0, snap.size() - 2));
    StoreLock lock{s};
    EXPECT_EQ(s.find({"ctr-c", "eth0"}).size(), 1u);
    EXPECT_TRUE(s.rebuilt());
}

TEST_F(DiskStoreTest, GarbledIndexTriggersARebuild) {
    auto s = store();
    {
        StoreLock lock{s};
        s.reserve(kA, ip("10.0.0.2"), 0);
    }
    write_file(net_ / ".sdnet/by-id/ctr-a@eth0", "");  // e.g. after a power loss
    StoreLock lock{s};
    EXPECT_EQ(s.find(kA), (std::vector<IpAddr>{ip("10.0.0.2")}));
    EXPECT_TRUE(s.rebuilt());
}

TEST_F(DiskStoreTest, LegacyIdOnlyFiles) {
    { auto s = store(); }
    write_file(net_ / "10.0.0.7", "old-ctr\n");
    auto s = store();
    StoreLock lock{s};
    EXPECT_TRUE(s.find({"old-ctr", "eth0"}).empty());
    EXPECT_EQ(s.find({"old-ctr", ""}), (std::vector<IpAddr>{ip("10.0.0.7")}));
    EXPECT_EQ(s.release_all({"old-ctr", ""}).size(), 1u);
    EXPECT_FALSE(fs::exists(net_ / "10.0.0.7"));
}

TEST_F(DiskStoreTest, ListSkipsBookkeepingAndReportsDebris) {
    auto s = store();
    {
        StoreLock lock{s};
        s.reserve(kA, ip("10.0.0.2"), 0);
    }
    write_file(net_ / "10.0.0.4", "");  // a reference ADD that died between create and write
    write_file(net_ / "notes.txt", "ctr-a\r\neth0");
    fs::create_directory(net_ / "10.0.0.5");
    StoreLock lock{s};
    auto all = s.list();
    std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.ip < b.ip; });
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], (Reservation{ip("10.0.0.2"), kA}));
    EXPECT_EQ(all[1], (Reservation{ip("10.0.0.4"), std::nullopt}));
    EXPECT_TRUE(s.release(ip("10.0.0.4"), std::nullopt));
}

TEST_F(DiskStoreTest, HolderParsing) {
    EXPECT_EQ(DiskStore::parse_holder("c1\r\neth0"), (Attachment{"c1", "eth0"}));
    EXPECT_EQ(DiskStore::parse_holder("  c1\r\neth0\n"), (Attachment{"c1", "eth0"}));
    EXPECT_EQ(DiskStore::parse_holder("c1"), (Attachment{"c1", ""}));
    EXPECT_FALSE(DiskStore::parse_holder(""));
    EXPECT_FALSE(DiskStore::parse_holder(" \r\n"));
    EXPECT_EQ(DiskStore::index_name({"c1", "eth0"}), "c1@eth0");
    EXPECT_EQ(DiskStore::index_name({"c1", ""}), "c1@");
}

TEST_F(DiskStoreTest, UnindexableHoldersAreFoundByScanning) {
    { auto s = store(); }
    std::string long_id(300, 'x');
    write_file(net_ / "10.0.0.8", long_id + "\r\neth0");
    auto s = store();
    StoreLock lock{s};
    EXPECT_EQ(s.find({long_id, "eth0"}).size(), 1u);
    EXPECT_EQ(s.release_all({long_id, "eth0"}).size(), 1u);
}

TEST_F(DiskStoreTest, OpenDoesNotCreate) {
    EXPECT_FALSE(DiskStore::open(tmp_.path(), "nope"));
    EXPECT_FALSE(fs::exists(tmp_.path() / "nope"));
    EXPECT_THROW(DiskStore::create(tmp_.path(), "../x"), std::invalid_argument);
}

TEST_F(DiskStoreTest, WithoutFsyncToo) {
    auto s = store({.range_sets = 1, .durable = false});
    StoreLock lock{s};
    EXPECT_TRUE(s.reserve(kA, ip("10.0.0.2"), 0));
    EXPECT_EQ(read_file(net_ / "10.0.0.2"), "ctr-a\r\neth0");
}

// Whether this process waits for a flock(2) on `file`: /proc/locks lists a blocked request as
// "N: -> FLOCK  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 0 EOF" (every kernel has it;
// /proc/<tid>/syscall needs arch support that user-mode Linux lacks).
bool blocked_in_flock(const fs::path& file) {
    struct stat st {};

    if (::stat(file.c_str(), &st) != 0) {
        return false;
    }
    std::string pid = " " + std::to_string(::getpid()) + " ";
    std::string inode = ":" + std::to_string(st.st_ino) + " ";
    std::ifstream in("/proc/locks");
    for (std::string line; std::getline(in, line);) {
        if (line.find("-> FLOCK") != std::string::npos && line.find(pid) != std::string::npos &&
            line.find(inode) != std::string::npos) {
            return true;
        }
    }
    return false;
}

TEST_F(DiskStoreTest, LockExcludesOtherInstances) {
    auto a = store();
    auto b = store();
    std::atomic<bool> b_locked{false};
    a.lock();
    std::thread t([&] {
        StoreLock lock{b};
        b_locked = true;
    });
    // b is known to wait for a only once the kernel lists its flock(2) as blocked.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!blocked_in_flock(net_ / "lock") && !b_locked) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "b never reached flock";
        std::this_thread::yield();
    }
    EXPECT_FALSE(b_locked);
    a.unlock();
    t.join();
    EXPECT_TRUE(b_locked);
}

}  // namespace
}  // namespace ipam
