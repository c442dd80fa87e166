// Several range sets, and range sets of several ranges, through our binary and the reference
// /usr/lib/cni/host-local side by side (each in its own dataDir, same requests): the same
// addresses in the same order, the same errors, and the same files on disk at every step.
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <string>

#include "exec_fixture.hpp"

namespace ipam::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class RangeSetsTest : public HostLocalExecTest {
protected:
    void SetUp() override {
        ASSERT_TRUE(reference_installed()) << kReferenceHostLocal << " is not installed";
        // Set 0: three IPv4 ranges (a gateway in each subnet, an explicit start and end in the
        // last); set 1: two IPv6 ranges; set 2: one range, so the sets fill up at different
        // moments: 5 + 1 + 3 = 9 addresses in set 0, 6 + 2 = 8 in set 1, 15 in set 2.
        ipam_["ranges"] =
            json::array({json::array({{{"subnet", "10.6.0.0/29"}},
                                      {{"subnet", "10.6.1.0/30"}},
                                      {{"subnet", "10.6.2.0/28"},
                                       {"rangeStart", "10.6.2.5"},
                                       {"rangeEnd", "10.6.2.7"},
                                       {"gateway", "10.6.2.1"}}}),
                         json::array({{{"subnet", "fd06::/125"}}, {{"subnet", "fd06:1::/126"}}}),
                         json::array({{{"subnet", "10.7.0.0/24"}, {"rangeStart", "10.7.0.240"}}})});
    }

    json ipam_in(const std::string& dir) const {
        json ipam = ipam_;
        ipam["dataDir"] = (tmp_.path() / dir).string();
        return ipam;
    }

    // The network directory's files as a user sees them: every regular file but the lock, with
    // its content (our .sdnet index directory is not the reference's).
    std::map<std::string, std::string> files(const std::string& dir) const {
        std::map<std::string, std::string> out;
        fs::path net = tmp_.path() / dir / "net1";
        if (!fs::exists(net)) {
            return out;
        }
        for (const auto& e : fs::directory_iterator(net)) {
            std::string name = e.path().filename();
            if (e.is_regular_file() && name != "lock") {
                out[name] = read_file(e.path());
            }
        }
        return out;
    }

    // Runs one request through both implementations, compares what each answered and left, and
    // returns our exit status.
    int both(const std::string& command, const std::string& id) {
        SCOPED_TRACE(command + " " + id);
        auto mine = ours(command, id, {{"ipam", ipam_in("ours")}});
        auto theirs = ref(command, id, {{"ipam", ipam_in("ref")}});
        EXPECT_EQ(mine.status, theirs.status) << mine.out << mine.err << "\n" << theirs.out;
        if (theirs.status == 0 && command == "ADD") {
            EXPECT_EQ(mine.json()["ips"], theirs.json()["ips"]);
        } else if (theirs.status != 0) {
            EXPECT_EQ(mine.code(), theirs.code()) << mine.out << "\n" << theirs.out;
        }
        EXPECT_EQ(files("ours"), files("ref"));
        return mine.status;
    }

    // How many reservation files of ours lie in `subnet`.
    int held_in(const std::string& subnet) const {
        auto net = netlib::IpNet::parse(subnet);
        int n = 0;
        for (const auto& [name, content] : files("ours")) {
            auto ip = netlib::IpAddr::try_parse(name);
            n += ip && net.contains(*ip) ? 1 : 0;
        }
        return n;
    }
};

TEST_F(RangeSetsTest, SameAllocationOrderAndFilesAsTheReference) {
    for (int i = 0; i < 6; ++i) {
        ASSERT_EQ(both("ADD", "c" + std::to_string(i)), 0);
    }
    both("DEL", "c1");
    both("DEL", "c4");
    // Round robin goes on after the last reserved address of each set, through the ranges of a
    // set in order, then wraps; set 1 (8 addresses) runs out at the 9th holder, and the failed
    // ADD keeps nothing in the other sets.
    for (int i = 6; i < 10; ++i) {
        ASSERT_EQ(both("ADD", "c" + std::to_string(i)), 0);
    }
    EXPECT_NE(both("ADD", "c10"), 0);
    EXPECT_NE(both("ADD", "c11"), 0);
    // 8 holders: set 0 went through its three ranges and wrapped into the first one's gap
    // (c1's old 10.6.0.3).
    EXPECT_EQ(held_in("10.6.0.0/29"), 4);
    EXPECT_EQ(held_in("10.6.1.0/30"), 1);
    EXPECT_EQ(held_in("10.6.2.0/28"), 3);
    EXPECT_EQ(files("ours")["10.6.0.3"], "c9\r\neth0");
    EXPECT_EQ(held_in("fd06::/125"), 6);
    EXPECT_EQ(held_in("fd06:1::/126"), 2);
    EXPECT_EQ(held_in("10.7.0.0/24"), 8);
    for (int i = 0; i < 12; ++i) {
        both("DEL", "c" + std::to_string(i));
    }
    // Nothing held any more; the round-robin hints stay, as the reference leaves them (and
    // files() compared them after every step).
    for (const auto& [name, content] : files("ours")) {
        EXPECT_TRUE(name.starts_with("last_reserved_ip.")) << name << ": " << content;
    }
    EXPECT_EQ(files("ours").size(), 3u);
}

}  // namespace
}  // namespace ipam::test
