#include "plugins/cni/json_util.hpp"

#include <gtest/gtest.h>

#include "plugins/cni/error.hpp"

namespace cni::json_util {
namespace {

TEST(JsonUtil, KeysMatchCaseInsensitivelyExactFirst) {
    auto j = json::parse(R"({"MTU": 1400, "bridge": "br0", "Bridge": "other"})");
    EXPECT_EQ(get_int(j, "mtu"), 1400);
    EXPECT_EQ(get_string(j, "bridge"), "br0");
    EXPECT_EQ(get_string(j, "absent"), std::nullopt);
}

TEST(JsonUtil, NullIsAbsent) {
    auto j = json::parse(R"({"mtu": null})");
    EXPECT_EQ(get_int(j, "mtu"), std::nullopt);
}

TEST(JsonUtil, WrongTypeNamesTheKey) {
    auto j = json::parse(R"({"mtu": "1500", "isGateway": 1, "ranges": {}})");
    try {
        get_int(j, "mtu");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::InvalidConfig);
        EXPECT_STREQ(e.what(), "invalid configuration: \"mtu\" must be an integer, got string");
    }
    EXPECT_THROW(get_bool(j, "isGateway"), Error);
    EXPECT_THROW(get_array(j, "ranges"), Error);
}

TEST(JsonUtil, RangesAndAddresses) {
    auto j = json::parse(R"({"mtu": 70000, "gw": "10.0.0.1", "net": "10.0.0.0/33"})");
    EXPECT_THROW(get_int_in(j, "mtu", 68, 65535), Error);
    EXPECT_EQ(get_ip(j, "gw")->to_string(), "10.0.0.1");
    EXPECT_THROW(get_cidr(j, "net"), Error);
    EXPECT_THROW(get_ip(j, "net"), Error);
}

}  // namespace
}  // namespace cni::json_util
