// Plugin chains run against fake plugins (shell scripts that record their calls): ordering,
// prevResult passing, rollback, cache handling, GC and STATUS as libcni does them.
#include <gtest/gtest.h>

#include "plugins/cni/types.hpp"
#include "runtime/libcni/error.hpp"
#include "runtime/libcni/runtime.hpp"
#include "tests/support/fake_plugins.hpp"

namespace {

using nlohmann::json;
using sdnet::test::FakePlugins;
using sdnet::test::TempDir;
using sdnet::test::write_file;
using Calls = std::vector<std::string>;

class LibcniChain : public ::testing::Test {
protected:
    TempDir tmp_;
    FakePlugins fakes_{tmp_.path()};
    libcni::Runtime rt_{{(tmp_ / "empty").string(), fakes_.dir().string()}, tmp_ / "cache"};
    libcni::RuntimeConf conf_{
        "c1", "/run/netns/x", "eth0", {{"IgnoreUnknown", "1"}}, json::object()};

    void SetUp() override {
        for (const char* name : {"a", "b", "c"}) {
            fakes_.add(name);
        }
    }

    libcni::NetworkList list(const std::string& version = "1.0.0",
                             const std::string& extra = "") const {
        return libcni::parse_network_list(
            R"({"cniVersion":")" + version + R"(","name":"net",)" + extra +
                R"("plugins":[{"type":"a","capabilities":{"portMappings":true}},{"type":"b"},)"
                R"({"type":"c"}]})",
            "test.conflist");
    }

    std::filesystem::path cache_file(const std::string& cid = "c1") const {
        return rt_.cache().path_for("net", cid, "eth0");
    }
};

TEST_F(LibcniChain, AddRunsInOrderPassingEachResultOn) {
    auto result = rt_.add(list(), conf_);
    EXPECT_EQ(fakes_.calls(), (Calls{"a ADD", "b ADD", "c ADD"}));
    EXPECT_FALSE(fakes_.stdin_of(0).contains("prevResult"));
    EXPECT_EQ(fakes_.stdin_of(1)["prevResult"], fakes_.result_of("a"));
    EXPECT_EQ(fakes_.stdin_of(2)["prevResult"], fakes_.result_of("b"));
    EXPECT_EQ(result, fakes_.result_of("c"));
    auto cached = rt_.cache().read("net", "c1", "eth0");
    ASSERT_TRUE(cached);
    EXPECT_EQ(cached->result, result);
    EXPECT_EQ(cached->config, list().bytes);
    EXPECT_EQ(cached->netns, "/run/netns/x");
    EXPECT_EQ(cached->cni_args, conf_.args);
}

TEST_F(LibcniChain, PluginsGetTheCniEnvironment) {
    rt_.add(list(), conf_);
    auto env = fakes_.env_of(0);
    EXPECT_EQ(env["CNI_COMMAND"], "ADD");
    EXPECT_EQ(env["CNI_CONTAINERID"], "c1");
    EXPECT_EQ(env["CNI_NETNS"], "/run/netns/x");
    EXPECT_EQ(env["CNI_IFNAME"], "eth0");
    EXPECT_EQ(env["CNI_ARGS"], "IgnoreUnknown=1");
    EXPECT_EQ(env["CNI_PATH"], (tmp_ / "empty").string() + ":" + fakes_.dir().string());
}

TEST_F(LibcniChain, CapabilityArgsReachOnlyDeclaringPlugins) {
    conf_.capability_args = {{"portMappings", json::array({{{"hostPort", 80}}})},
                             {"mac", "02:00:00:00:00:01"}};
    rt_.add(list(), conf_);
    EXPECT_EQ(fakes_.stdin_of(0)["runtimeConfig"],
              json({{"portMappings", conf_.capability_args["portMappings"]}}));
    EXPECT_FALSE(fakes_.stdin_of(1).contains("runtimeConfig"));
    EXPECT_EQ(rt_.cache().read("net", "c1", "eth0")->capability_args, conf_.capability_args);
}

TEST_F(LibcniChain, DelRunsInReverseWithCachedResultAndRemovesCache) {
    conf_.capability_args = {{"portMappings", json::array({{{"hostPort", 80}}})}};
    auto result = rt_.add(list(), conf_);
    fakes_.clear_log();
    rt_.del(list(), conf_);
    EXPECT_EQ(fakes_.calls(), (Calls{"c DEL", "b DEL", "a DEL"}));
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(cni::parse_result(fakes_.stdin_of(i)["prevResult"]), cni::parse_result(result));
    }
    EXPECT_EQ(fakes_.stdin_of(2)["runtimeConfig"]["portMappings"][0]["hostPort"], 80);
    EXPECT_FALSE(std::filesystem::exists(cache_file()));
}

TEST_F(LibcniChain, CachedResultIsConvertedToTheListVersion) {
    auto l = list("0.4.0");
    rt_.add(l, conf_);  // the fakes print 1.0.0 results
    fakes_.clear_log();
    rt_.del(l, conf_);
    auto prev = fakes_.stdin_of(0)["prevResult"];
    EXPECT_EQ(prev["cniVersion"], "0.4.0");
    EXPECT_EQ(prev["ips"][0]["version"], "4");
}

TEST_F(LibcniChain, DelBefore040GetsNoPrevResult) {
    auto l = list("0.3.1");
    rt_.add(l, conf_);
    fakes_.clear_log();
    rt_.del(l, conf_);
    EXPECT_FALSE(fakes_.stdin_of(0).contains("prevResult"));
    EXPECT_FALSE(std::filesystem::exists(cache_file()));
}

TEST_F(LibcniChain, FailingPluginIsFollowedByDelOfTheWholeChain) {
    fakes_.fail("b", "ADD", 7, "bad bridge config");
    try {
        rt_.add(list(), conf_);
        FAIL() << "ADD succeeded";
    } catch (const libcni::PluginError& e) {
        EXPECT_EQ(e.plugin(), "b");
        EXPECT_EQ(e.command(), cni::Command::Add);
        EXPECT_EQ(e.code(), cni::Code::InvalidConfig);
        EXPECT_EQ(std::string{e.what()},
                  "network \"net\": plugin \"b\" failed (ADD): bad bridge config [CNI code 7]");
    }
    EXPECT_EQ(fakes_.calls(), (Calls{"a ADD", "b ADD", "c DEL", "b DEL", "a DEL"}));
    for (std::size_t i = 2; i < 5; ++i) {
        EXPECT_FALSE(fakes_.stdin_of(i).contains("prevResult"));
    }
    EXPECT_FALSE(std::filesystem::exists(cache_file()));
}

TEST_F(LibcniChain, FailedRollbackReportsBothErrors) {
    fakes_.fail("c", "ADD", 11, "try later");
    fakes_.fail("b", "DEL", 999, "stuck");
    try {
        rt_.add(list(), conf_);
        FAIL() << "ADD succeeded";
    } catch (const libcni::AddFailedError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("plugin \"c\" failed (ADD): try later"), std::string::npos) << msg;
        EXPECT_NE(msg.find("plugin \"b\" failed (DEL): stuck"), std::string::npos) << msg;
    }
    // DEL stops at the first failure, as SPEC.md says.
    EXPECT_EQ(fakes_.calls(), (Calls{"a ADD", "b ADD", "c ADD", "c DEL", "b DEL"}));
}

TEST_F(LibcniChain, MissingPluginIsNamedAndRolledBack) {
    auto l = libcni::parse_network_list(
        R"({"cniVersion":"1.0.0","name":"net","plugins":[{"type":"a"},{"type":"nope"}]})", "t");
    try {
        rt_.add(l, conf_);
        FAIL();
    } catch (const libcni::AddFailedError& e) {
        // The rollback DEL cannot find it either.
        EXPECT_NE(std::string{e.what()}.find("failed to find plugin \"nope\" in path"),
                  std::string::npos);
    }
    EXPECT_EQ(fakes_.calls(), (Calls{"a ADD"}));
}

TEST_F(LibcniChain, InvalidResultIsAnAddFailure) {
    fakes_.add("b", json{{"cniVersion", "1.0.0"}, {"ips", {{{"address", "banana"}}}}});
    EXPECT_THROW(rt_.add(list(), conf_), libcni::PluginError);
    EXPECT_EQ(fakes_.calls(), (Calls{"a ADD", "b ADD", "c DEL", "b DEL", "a DEL"}));
}

TEST_F(LibcniChain, ResultWithoutVersionTakesTheConfigVersion) {
    fakes_.add("c", json{{"ips", {{{"address", "10.0.0.5/24"}}}}});
    auto result = rt_.add(list(), conf_);
    EXPECT_EQ(result["cniVersion"], "1.0.0");
}

TEST_F(LibcniChain, CorruptMissingOrEmptyCacheDoesNotBlockDel) {
    for (const char* content : {"{not json", "", R"({"kind":"cniCacheV1","result":"x"})"}) {
        write_file(cache_file(), content);
        fakes_.clear_log();
        rt_.del(list(), conf_);
        EXPECT_EQ(fakes_.calls(), (Calls{"c DEL", "b DEL", "a DEL"})) << content;
        EXPECT_FALSE(fakes_.stdin_of(0).contains("prevResult")) << content;
        EXPECT_FALSE(std::filesystem::exists(cache_file())) << content;
    }
    fakes_.clear_log();
    rt_.del(list(), conf_);  // nothing cached at all
    EXPECT_EQ(fakes_.calls().size(), 3u);
}

TEST_F(LibcniChain, FailedDelStopsAndKeepsTheCache) {
    rt_.add(list(), conf_);
    fakes_.clear_log();
    fakes_.fail("b", "DEL", 999, "busy");
    EXPECT_THROW(rt_.del(list(), conf_), libcni::PluginError);
    EXPECT_EQ(fakes_.calls(), (Calls{"c DEL", "b DEL"}));
    EXPECT_TRUE(std::filesystem::exists(cache_file()));
}

TEST_F(LibcniChain, CheckRunsInOrderWithCachedResult) {
    auto result = rt_.add(list(), conf_);
    fakes_.clear_log();
    EXPECT_TRUE(rt_.check(list(), conf_));
    EXPECT_EQ(fakes_.calls(), (Calls{"a CHECK", "b CHECK", "c CHECK"}));
    EXPECT_EQ(cni::parse_result(fakes_.stdin_of(0)["prevResult"]), cni::parse_result(result));

    fakes_.clear_log();
    fakes_.fail("b", "CHECK", 999, "eth0 has no address");
    EXPECT_THROW(rt_.check(list(), conf_), libcni::PluginError);
    EXPECT_EQ(fakes_.calls(), (Calls{"a CHECK", "b CHECK"}));
}

TEST_F(LibcniChain, CheckHonoursDisableCheckAndVersion) {
    EXPECT_FALSE(rt_.check(list("1.0.0", R"("disableCheck":true,)"), conf_));
    EXPECT_THROW(rt_.check(list("0.3.1"), conf_), libcni::UnsupportedError);
    EXPECT_TRUE(fakes_.calls().empty());
    write_file(cache_file(), "{");
    EXPECT_THROW(rt_.check(list(), conf_), libcni::CacheError);
}

TEST_F(LibcniChain, GcDeletesStaleAttachmentsThenGcsEveryPlugin) {
    auto l = list("1.1.0");
    conf_.capability_args = {{"portMappings", json::array({{{"hostPort", 80}}})}};
    rt_.add(l, conf_);
    auto stale = conf_;
    stale.container_id = "c2";
    stale.netns = "/run/netns/gone";
    rt_.add(l, stale);
    fakes_.clear_log();
    auto report = rt_.gc(l, std::vector<libcni::GcAttachment>{{"c1", "eth0"}});
    EXPECT_TRUE(report.errors.empty());
    ASSERT_EQ(report.deleted.size(), 1u);
    EXPECT_EQ(report.deleted[0].container_id, "c2");
    EXPECT_EQ(fakes_.calls(), (Calls{"c DEL", "b DEL", "a DEL", "a GC", "b GC", "c GC"}));
    // The synthesized DEL uses what the cache recorded.
    auto del_env = fakes_.env_of(0);
    EXPECT_EQ(del_env["CNI_CONTAINERID"], "c2");
    EXPECT_EQ(del_env["CNI_NETNS"], "/run/netns/gone");
    EXPECT_EQ(fakes_.stdin_of(2)["runtimeConfig"]["portMappings"][0]["hostPort"], 80);
    auto gc_stdin = fakes_.stdin_of(3);
    json valid = json::parse(R"([{"containerID":"c1","ifname":"eth0"}])");
    EXPECT_EQ(gc_stdin["cni.dev/valid-attachments"], valid);
    EXPECT_EQ(gc_stdin["cni.dev/attachments"], valid);
    EXPECT_EQ(fakes_.env_of(3)["CNI_CONTAINERID"], "");
    EXPECT_TRUE(std::filesystem::exists(cache_file("c1")));
    EXPECT_FALSE(std::filesystem::exists(cache_file("c2")));
}

TEST_F(LibcniChain, GcContinuesAfterErrorsAndAggregatesThem) {
    auto l = list("1.1.0");
    rt_.add(l, conf_);
    fakes_.clear_log();
    fakes_.fail("b", "DEL", 999, "del broke");
    fakes_.fail("a", "GC", 999, "gc broke");
    auto report = rt_.gc(l, std::vector<libcni::GcAttachment>{});
    EXPECT_EQ(fakes_.calls(), (Calls{"c DEL", "b DEL", "a GC", "b GC", "c GC"}));
    ASSERT_EQ(report.errors.size(), 2u);
    EXPECT_NE(report.errors[0].find("failed to delete stale attachment c1 eth0"),
              std::string::npos);
    EXPECT_NE(report.errors[1].find("plugin \"a\" failed (GC): gc broke"), std::string::npos);
}

TEST_F(LibcniChain, GcBefore110OnlyDeletesAndDisableGcDoesNothing) {
    rt_.add(list(), conf_);
    fakes_.clear_log();
    EXPECT_TRUE(rt_.gc(list("1.0.0", R"("disableGC":true,)"), std::nullopt).deleted.empty());
    EXPECT_TRUE(fakes_.calls().empty());
    auto report = rt_.gc(list(), std::nullopt);  // no valid list: everything is stale
    EXPECT_EQ(report.deleted.size(), 1u);
    EXPECT_EQ(fakes_.calls(), (Calls{"c DEL", "b DEL", "a DEL"}));
}

TEST_F(LibcniChain, StatusStopsAtFirstFailure) {
    EXPECT_TRUE(rt_.status(list("1.1.0")));
    EXPECT_EQ(fakes_.calls(), (Calls{"a STATUS", "b STATUS", "c STATUS"}));
    EXPECT_EQ(fakes_.stdin_of(0)["name"], "net");
    fakes_.clear_log();
    fakes_.fail("b", "STATUS", 50, "no addresses left");
    try {
        rt_.status(list("1.1.0"));
        FAIL();
    } catch (const libcni::PluginError& e) {
        EXPECT_EQ(e.code(), cni::Code::NotAvailable);
    }
    EXPECT_EQ(fakes_.calls(), (Calls{"a STATUS", "b STATUS"}));
    fakes_.clear_log();
    EXPECT_FALSE(rt_.status(list("1.0.0")));
    EXPECT_TRUE(fakes_.calls().empty());
}

TEST_F(LibcniChain, VersionProbeAndValidation) {
    auto info = rt_.version_info("a");
    EXPECT_EQ(info.cni_version, "1.1.0");
    EXPECT_EQ(info.supported_versions.size(), 5u);
    EXPECT_EQ(rt_.validate(list()), std::vector<std::string>{"portMappings"});
    fakes_.add("b", nullptr, {"0.3.1"});
    try {
        rt_.validate(list());
        FAIL();
    } catch (const libcni::Error& e) {
        EXPECT_EQ(std::string{e.what()},
                  "network \"net\": plugin \"b\" does not support config version \"1.0.0\"");
    }
    EXPECT_TRUE(fakes_.calls().empty());  // VERSION is not logged by the fakes
}

TEST_F(LibcniChain, RejectsInvalidRuntimeArguments) {
    auto bad = conf_;
    bad.container_id = "";
    EXPECT_THROW(rt_.add(list(), bad), libcni::ArgumentError);
    bad.container_id = "-x";
    EXPECT_THROW(rt_.add(list(), bad), libcni::ArgumentError);
    bad = conf_;
    bad.ifname = "a/b";
    EXPECT_THROW(rt_.del(list(), bad), libcni::ArgumentError);
    EXPECT_TRUE(fakes_.calls().empty());
}

}  // namespace
