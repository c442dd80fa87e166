// The GC list parser and the one rule every plugin's GC uses to tell live state from stale.
#include "plugins/cni/gc.hpp"

#include <gtest/gtest.h>

#include "plugins/cni/error.hpp"

namespace cni {
namespace {

using nlohmann::json;

json conf(json extra) {
    json c = {{"cniVersion", "1.1.0"}, {"name", "net"}, {"type", "x"}};
    c.update(extra);
    return c;
}

json entry(const std::string& id, const std::string& ifname) {
    return {{"containerID", id}, {"ifname", ifname}};
}

Code code_of(const json& config) {
    try {
        (void)ValidAttachments::parse(config);
    } catch (const Error& e) {
        return e.code();
    }
    return Code{0};
}

TEST(ValidAttachments, AbsentListIsNotAnEmptyList) {
    EXPECT_FALSE(ValidAttachments::parse(conf(json::object())));
    auto empty = ValidAttachments::parse(conf({{"cni.dev/valid-attachments", json::array()}}));
    ASSERT_TRUE(empty);
    EXPECT_FALSE(empty->is_live({"net", "c1", "eth0"}));
}

TEST(ValidAttachments, CorrectedKeyWinsOverTheLegacyOne) {
    auto v = ValidAttachments::parse(conf({{"cni.dev/attachments", {entry("c1", "eth0")}},
                                           {"cni.dev/valid-attachments", json::array()}}));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->pairs().empty());
    v = ValidAttachments::parse(conf({{"cni.dev/attachments", {entry("c1", "eth0")}}}));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->is_live({"net", "c1", "eth0"}));
}

TEST(ValidAttachments, OwnerIsLiveOnlyIfListedExactly) {
    auto v = ValidAttachments::parse(
        conf({{"cni.dev/valid-attachments", {entry("c1", "eth0"), entry("c2", "net1")}}}));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->network(), "net");
    EXPECT_TRUE(v->is_live({"net", "c1", "eth0"}));
    EXPECT_TRUE(v->is_live({"net", "c2", "net1"}));
    EXPECT_FALSE(v->is_live({"net", "c1", "net1"}));
    EXPECT_FALSE(v->is_live({"net", "c3", "eth0"}));
    // Another network's state is not this GC's to judge.
    EXPECT_TRUE(v->is_live({"other", "c3", "eth0"}));
    // host-local's legacy id-only reservations: live while the container has any attachment.
    EXPECT_TRUE(v->is_live({"net", "c1", ""}));
    EXPECT_FALSE(v->is_live({"net", "c3", ""}));
    EXPECT_EQ(v->pairs(),
              (std::set<std::pair<std::string, std::string>>{{"c1", "eth0"}, {"c2", "net1"}}));
}

// SPEC.md gives every entry both strings; anything else is invalid configuration, never a
// guess (an entry without ifname used to keep state in some plugins and release it in others).
TEST(ValidAttachments, MalformedListIsInvalidConfig) {
    for (const json& list :
         {json("c1"), json::array({"c1"}), json::array({json::object()}),
          json::array({{{"containerID", "c1"}}}), json::array({{{"ifname", "eth0"}}}),
          json::array({{{"containerID", 5}, {"ifname", "eth0"}}}),
          json::array({{{"containerID", "c1"}, {"ifname", 0}}}), json::array({entry("", "eth0")}),
          json::array({entry("c1", "")})}) {
        EXPECT_EQ(code_of(conf({{"cni.dev/valid-attachments", list}})), Code::InvalidConfig)
            << list;
        EXPECT_EQ(code_of(conf({{"cni.dev/attachments", list}})), Code::InvalidConfig) << list;
    }
}

}  // namespace
}  // namespace cni
