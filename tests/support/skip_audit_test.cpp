// The skip audit itself (main.cpp): under SDNET_NO_SKIP=1 a test that skips for a reason that is
// not a known kernel gap must make its binary fail. ctest runs this binary twice: plainly (it
// passes) and asked to skip (it must fail; WILL_FAIL in CMakeLists.txt).
#include <cstdlib>
#include <gtest/gtest.h>

TEST(SkipAudit, SkipsOnlyWhenAsked) {
    if (std::getenv("SDNET_SKIP_AUDIT_SELFTEST") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
        GTEST_SKIP() << "asked to skip by SDNET_SKIP_AUDIT_SELFTEST";
    }
    SUCCEED();
}
