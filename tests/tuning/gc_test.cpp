// GC removes the saved state (<dataDir>/<cid>_<ifname>.json and its .owner file) of this
// network's attachments that are not in cni.dev/valid-attachments, and nothing else: not live
// attachments, not another network's, not files the reference wrote (they name no network).
#include <filesystem>
#include <gtest/gtest.h>

#include "tests/tuning/tuning_harness.hpp"

namespace sdnet::test {
namespace {

namespace fs = std::filesystem;

class TuningGc : public TuningTest {
protected:
    const json keys_ = {{"mac", "0a:58:0a:58:00:07"}};

    Call gc(const json& valid, const std::string& network = "tnet") {
        json c = {{"cniVersion", "1.1.0"}, {"name", network}, {"type", "tuning"}};
        if (!valid.is_null()) {
            c["cni.dev/valid-attachments"] = valid;
        }
        std::string bin = plugin_path("tuning");
        return run_env({{"CNI_COMMAND", "GC"}, {"CNI_PATH", bin.substr(0, bin.rfind('/'))}}, c,
                       bin);
    }

    static json attachment(const TestNetns& ns) {
        return {{"containerID", "ctr-" + ns.name}, {"ifname", "eth0"}};
    }

    static bool owner_file(const TestNetns& ns) {
        return fs::exists("/run/cni/tuning/ctr-" + ns.name + "_eth0.json.owner");
    }

    void add(const TestNetns& ns, const std::string& binary = "") {
        auto r = tuning("ADD", ns, conf(ns, keys_), binary);
        ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
        ASSERT_TRUE(saved(ns));
    }
};

TEST_F(TuningGc, RemovesOnlyTheStateOfAttachmentsNoLongerValid) {
    const auto& c2 = container("c2");
    add(c1());
    add(c2);
    EXPECT_TRUE(owner_file(c1()));

    auto r = gc(json::array({attachment(c2)}));
    ASSERT_EQ(r.r.exit_code, 0) << r.r.out << r.r.err;
    EXPECT_TRUE(r.r.out.empty()) << r.r.out;  // SPEC.md: no output on success
    EXPECT_FALSE(saved(c1()));
    EXPECT_FALSE(owner_file(c1()));
    EXPECT_TRUE(saved(c2));
    EXPECT_TRUE(owner_file(c2));

    // DEL after GC still succeeds and leaves nothing.
    ASSERT_EQ(tuning("DEL", c1(), conf(c1(), keys_)).r.exit_code, 0);
    ASSERT_EQ(tuning("DEL", c2, conf(c2, keys_)).r.exit_code, 0);
    EXPECT_FALSE(saved(c2));
    EXPECT_FALSE(owner_file(c2));
}

TEST_F(TuningGc, KeepsEverythingWithoutAListAndOtherNetworksState) {
    add(c1());
    ASSERT_EQ(gc(json()).r.exit_code, 0);  // cnitool sends GC without a list
    EXPECT_TRUE(saved(c1()));
    ASSERT_EQ(gc(json::array(), "other-net").r.exit_code, 0);
    EXPECT_TRUE(saved(c1()));
    ASSERT_EQ(gc(json::array()).r.exit_code, 0);  // explicitly nothing valid
    EXPECT_FALSE(saved(c1()));
}

TEST_F(TuningGc, MalformedListIsCode7AndRemovesNothing) {
    add(c1());
    auto r = gc(json::array({{{"containerID", "ctr-" + c1().name}}}));
    EXPECT_EQ(r.code(), 7) << r.r.out;
    EXPECT_TRUE(saved(c1()));
    EXPECT_TRUE(owner_file(c1()));
}

TEST_F(TuningGc, KeepsTheReferencesFilesWhichNameNoNetwork) {
    if (!fs::exists(kReferenceTuning)) {
        FAIL() << kReferenceTuning << " is not installed";
    }
    add(c1(), kReferenceTuning);
    EXPECT_FALSE(owner_file(c1()));
    ASSERT_EQ(gc(json::array()).r.exit_code, 0);
    EXPECT_TRUE(saved(c1()));
    // Our DEL restores from it as before.
    ASSERT_EQ(tuning("DEL", c1(), conf(c1(), keys_)).r.exit_code, 0);
    EXPECT_FALSE(saved(c1()));
}

}  // namespace
}  // namespace sdnet::test
