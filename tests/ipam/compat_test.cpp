// Compatibility with the installed reference host-local (containernetworking-plugins v1.1.1) on
// the same data directory, in both directions.
#include <filesystem>
#include <gtest/gtest.h>
#include <set>
#include <vector>

#include "exec_fixture.hpp"

namespace ipam::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class CompatTest : public HostLocalExecTest {
protected:
    void SetUp() override {
        if (!reference_installed()) {
            GTEST_SKIP() << kReferenceHostLocal
                         << " is not installed (containernetworking-plugins)";
        }
        ipam_["ranges"] = json::array(
            {json::array({{{"subnet", "10.5.0.0/24"}}}), json::array({{{"subnet", "fd05::/64"}}})});
    }
};

TEST_F(CompatTest, ReferenceAddsOursSeesRefusesADuplicateAndReleases) {
    auto r = ref("ADD", "c1");
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_EQ(address_of(r, 0), "10.5.0.2");

    EXPECT_EQ(ours("CHECK", "c1").status, 0);
    auto dup = ours("ADD", "c1");
    EXPECT_EQ(dup.code(), 999);
    EXPECT_NE(dup.msg().find("duplicate allocation"), std::string::npos) << dup.msg();

    auto next = ours("ADD", "c2");  // continues after the reference's last_reserved_ip
    ASSERT_EQ(next.status, 0);
    EXPECT_EQ(address_of(next, 0), "10.5.0.3");
    EXPECT_EQ(address_of(next, 1), "fd05::3");

    EXPECT_EQ(ours("DEL", "c1").status, 0);
    EXPECT_FALSE(fs::exists(net_ / "10.5.0.2"));
    EXPECT_FALSE(fs::exists(net_ / "fd05::2"));
    EXPECT_NE(ref("CHECK", "c1").status, 0);
    EXPECT_EQ(ref("CHECK", "c2").status, 0);  // and the reference sees ours
}

TEST_F(CompatTest, OursAddsReferenceDelReleases) {
    ASSERT_EQ(ours("ADD", "c1").status, 0);
    ASSERT_EQ(ours("ADD", "c2").status, 0);
    auto d = ref("DEL", "c1");
    EXPECT_EQ(d.status, 0) << d.out;
    EXPECT_FALSE(fs::exists(net_ / "10.5.0.2"));
    EXPECT_FALSE(fs::exists(net_ / "fd05::2"));
    EXPECT_EQ(reservations().size(), 2u);  // c2's
    // Our index still names c1's old addresses; they are checked before use, so c1 may ADD again.
    auto again = ours("ADD", "c1");
    ASSERT_EQ(again.status, 0) << again.out;
    EXPECT_EQ(address_of(again, 0), "10.5.0.4");
    // The reference's duplicate check sees our reservations, and its walk over our .sdnet
    // directory neither matches nor deletes anything there.
    EXPECT_EQ(ref("ADD", "c2").status, 1);
    EXPECT_EQ(ref("CHECK", "c2").status, 0);
    EXPECT_TRUE(fs::exists(net_ / ".sdnet/by-id/c2@eth0"));
    EXPECT_EQ(ref("DEL", "c2").status, 0);
    EXPECT_TRUE(fs::exists(net_ / ".sdnet/by-id/c1@eth0"));
    EXPECT_EQ(reservations().size(), 2u);  // c1's
}

TEST_F(CompatTest, AlternatingImplementationsShareOneRoundRobin) {
    std::vector<std::string> got;
    for (int i = 0; i < 6; ++i) {
        auto e =
            i % 2 == 0 ? ref("ADD", "c" + std::to_string(i)) : ours("ADD", "c" + std::to_string(i));
        ASSERT_EQ(e.status, 0) << e.out;
        got.push_back(address_of(e, 0));
    }
    EXPECT_EQ(got, (std::vector<std::string>{"10.5.0.2", "10.5.0.3", "10.5.0.4", "10.5.0.5",
                                             "10.5.0.6", "10.5.0.7"}));
    // Whoever made them, our DEL releases them (the reference ones by index rebuild).
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(ours("DEL", "c" + std::to_string(i)).status, 0);
    }
    EXPECT_TRUE(reservations().empty());
}

TEST_F(CompatTest, ReservationFilesAreByteIdentical) {
    ASSERT_EQ(ref("ADD", "same", json::object(), {}, "net0").status, 0);
    std::string theirs = read_file(net_ / "10.5.0.2");
    std::string their_last = read_file(net_ / "last_reserved_ip.0");
    ASSERT_EQ(ref("DEL", "same", json::object(), {}, "net0").status, 0);
    ASSERT_EQ(ours("ADD", "same", json::object(), {}, "net0").status, 0);
    EXPECT_EQ(read_file(net_ / "10.5.0.3"), theirs);
    EXPECT_EQ(their_last, "10.5.0.2");
    EXPECT_EQ(read_file(net_ / "last_reserved_ip.0"), "10.5.0.3");
}

TEST_F(CompatTest, MixedConcurrentAddsGetDistinctAddresses) {
    std::vector<Child> children;
    for (int i = 0; i < 32; ++i) {
        std::string id = "mix-" + std::to_string(i);
        children.emplace_back(i % 2 == 0 ? our_host_local() : std::string{kReferenceHostLocal},
                              cni_env("ADD", id), config().dump());
    }
    std::set<std::string> ips;
    for (auto& c : children) {
        auto e = c.wait();
        ASSERT_EQ(e.status, 0) << e.out << e.err;
        ips.insert(address_of(e, 0));
    }
    EXPECT_EQ(ips.size(), 32u);
    for (int i = 0; i < 32; ++i) {
        ASSERT_EQ(ours("DEL", "mix-" + std::to_string(i)).status, 0);
    }
    EXPECT_TRUE(reservations().empty());
}

}  // namespace
}  // namespace ipam::test
