// parse_size/parse_count: docker's size syntax for -m, positive counts for --pids-limit.
#include "runtime/container/units.hpp"

#include <gtest/gtest.h>

#include "runtime/container/error.hpp"

namespace {

using sdrun::parse_count;
using sdrun::parse_size;

TEST(ParseSize, UnitsArePowersOf1024) {
    EXPECT_EQ(parse_size("100", "m"), 100);
    EXPECT_EQ(parse_size("100b", "m"), 100);
    EXPECT_EQ(parse_size("4k", "m"), 4096);
    EXPECT_EQ(parse_size("32m", "m"), 32 << 20);
    EXPECT_EQ(parse_size("32MB", "m"), 32 << 20);
    EXPECT_EQ(parse_size("2g", "m"), std::int64_t{2} << 30);
}

TEST(ParseSize, RefusesWhatIsNotASize) {
    for (const char* bad : {"12qb", "", "m", "-1", "0", "1.5g", "12 m", "1bb", "99999999999g"}) {
        EXPECT_THROW(parse_size(bad, "memory limit"), sdrun::Error) << bad;
    }
    try {
        parse_size("12qb", "memory limit");
    } catch (const sdrun::Error& e) {
        EXPECT_STREQ(e.what(),
                     "invalid memory limit \"12qb\": expected a positive number with an optional "
                     "unit b, k, m or g");
    }
}

TEST(ParseCount, PositiveIntegersOnly) {
    EXPECT_EQ(parse_count("20", "pids limit"), 20);
    for (const char* bad : {"", "0", "-3", "2x", "1e3"}) {
        EXPECT_THROW(parse_count(bad, "pids limit"), sdrun::Error) << bad;
    }
}

}  // namespace
