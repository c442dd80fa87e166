// Many host-local processes on one network at once: the flock serialises them.
#include <filesystem>
#include <gtest/gtest.h>
#include <set>
#include <vector>

#include "exec_fixture.hpp"

namespace ipam::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kProcesses = 64;

std::vector<Exec> run_all(const std::string& binary, const std::string& command,
                          const std::string& config) {
    std::vector<Child> children;
    children.reserve(kProcesses);
    for (int i = 0; i < kProcesses; ++i) {
        children.emplace_back(binary, cni_env(command, "ctr-" + std::to_string(i)), config);
    }
    std::vector<Exec> out;
    for (auto& c : children) {
        out.push_back(c.wait());
    }
    return out;
}

class ConcurrencyTest : public HostLocalExecTest {};

TEST_F(ConcurrencyTest, SixtyFourConcurrentAddsThenDels) {
    ipam_["ranges"] = json::array(
        {json::array({{{"subnet", "10.5.0.0/24"}}}), json::array({{{"subnet", "fd05::/64"}}})});
    std::set<std::string> v4;
    std::set<std::string> v6;
    for (const auto& e : run_all(our_host_local(), "ADD", config().dump())) {
        ASSERT_EQ(e.status, 0) << e.out << e.err;
        v4.insert(address_of(e, 0));
        v6.insert(address_of(e, 1));
    }
    EXPECT_EQ(v4.size(), static_cast<std::size_t>(kProcesses));
    EXPECT_EQ(v6.size(), static_cast<std::size_t>(kProcesses));
    auto held = reservations();
    EXPECT_EQ(held.size(), 2u * kProcesses);
    std::set<std::string> holders;
    for (const auto& [ip, content] : held) {
        holders.insert(content);
    }
    EXPECT_EQ(holders.size(), static_cast<std::size_t>(kProcesses));  // two addresses each

    for (const auto& e : run_all(our_host_local(), "DEL", config().dump())) {
        ASSERT_EQ(e.status, 0) << e.out << e.err;
    }
    EXPECT_TRUE(reservations().empty());
    EXPECT_TRUE(fs::is_empty(net_ / ".sdnet/by-id"));
    for (const auto& e : fs::directory_iterator(net_ / ".sdnet")) {
        EXPECT_FALSE(e.path().filename().string().starts_with("tmp-")) << e.path();
    }
}

}  // namespace
}  // namespace ipam::test
