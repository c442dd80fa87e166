#include "plugins/cni/version.hpp"

#include <gtest/gtest.h>

#include "plugins/cni/error.hpp"

namespace cni {
namespace {

TEST(Version, ParsesAndOrders) {
    EXPECT_EQ(Version::parse("0.3.1"), (Version{0, 3, 1}));
    EXPECT_LT(Version::parse("0.4.0"), Version::parse("1.0.0"));
    EXPECT_EQ(Version::parse("1.1.0").to_string(), "1.1.0");
}

TEST(Version, RejectsMalformedTextWithDecodeError) {
    for (const char* bad : {"", "1", "1.0", "1.0.0.0", "a.b.c", "1..0", "-1.0.0", "1.0.x"}) {
        try {
            Version::parse(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Code::Decode) << bad;
        }
    }
}

TEST(Version, SupportsEverySpecVersion) {
    for (const char* v : {"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
        EXPECT_TRUE(is_supported(Version::parse(v))) << v;
    }
    EXPECT_FALSE(is_supported(Version::parse("1.2.0")));
    EXPECT_FALSE(is_supported(Version::parse("0.5.0")));
}

}  // namespace
}  // namespace cni
