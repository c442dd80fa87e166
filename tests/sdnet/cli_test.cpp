// The sdnet executable against fake plugins: every subcommand's help, one-line errors with a
// non-zero exit, --json output, and attach/detach/check/gc/status/ls/ps end to end. The netns is
// /proc/self/ns/net (of the sdnet process), which exists and which the fakes never touch.
#include <gtest/gtest.h>

#include "runtime/libcni/attachment_id.hpp"
#include "runtime/libcni/cache.hpp"
#include "tests/support/fake_plugins.hpp"

namespace {

using nlohmann::json;
using sdnet::test::FakePlugins;
using sdnet::test::Outcome;
using sdnet::test::TempDir;
using sdnet::test::write_file;
using Calls = std::vector<std::string>;

constexpr const char* kNetns = "/proc/self/ns/net";

class SdnetCli : public ::testing::Test {
protected:
    TempDir tmp_;
    FakePlugins fakes_{tmp_.path()};
    std::filesystem::path conf_ = tmp_ / "net.d";
    std::filesystem::path cache_ = tmp_ / "cache";
    std::string cid_ = libcni::derive_container_id(kNetns);

    void SetUp() override {
        for (const char* name : {"a", "portmap", "c"}) {
            fakes_.add(name);
        }
        write_file(conf_ / "10-net.conflist",
                   R"({"cniVersion":"1.1.0","name":"net","plugins":[{"type":"a"},)"
                   R"({"type":"portmap","capabilities":{"portMappings":true}},{"type":"c"}]})");
        write_file(conf_ / "20-old.conflist",
                   R"({"cniVersion":"1.0.0","name":"old","plugins":[{"type":"a"}]})");
    }

    Outcome sdnet(std::vector<std::string> args) const { return sdnet_in(conf_, std::move(args)); }

    Outcome sdnet_in(const std::filesystem::path& conf, std::vector<std::string> args) const {
        args.insert(args.begin(), {SDNET_EXE, "--conf-dir", conf.string(), "--plugin-dir",
                                   fakes_.dir().string(), "--cache-dir", cache_.string()});
        return sdnet::test::run_process(args);
    }

    std::filesystem::path cache_file(const std::string& net = "net") const {
        return libcni::ResultCache(cache_).path_for(net, cid_, "eth0");
    }
};

// Fails unless `r` is a failure with exactly one stderr line containing `needle` (and nothing on
// stdout unless `output` is set: gc reports what it did before the error).
void expect_one_line_error(const Outcome& r, const std::string& needle, int status = 0,
                           bool output = false) {
    EXPECT_NE(r.status, 0) << r.err;
    if (status != 0) {
        EXPECT_EQ(r.status, status) << r.err;
    }
    EXPECT_EQ(r.err_lines(), 1u) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_TRUE(output || r.out.empty()) << r.out;
}

TEST_F(SdnetCli, HelpOnEverySubcommand) {
    for (const char* cmd :
         {"attach", "detach", "check", "status", "gc", "ls", "ps", "show", "netns"}) {
        for (const char* flag : {"--help", "-h"}) {
            auto r = sdnet({cmd, flag});
            EXPECT_EQ(r.status, 0) << cmd;
            EXPECT_TRUE(r.err.empty()) << cmd << ": " << r.err;
            EXPECT_EQ(r.out.rfind(std::string{"Usage: sdnet "} + cmd + " ", 0), 0u) << r.out;
            EXPECT_NE(r.out.find("--conf-dir"), std::string::npos) << cmd;
        }
    }
    auto top = sdnet::test::run_process({SDNET_EXE, "--help"});
    EXPECT_EQ(top.status, 0);
    EXPECT_NE(top.out.find("Commands:"), std::string::npos);
    EXPECT_EQ(sdnet::test::run_process({SDNET_EXE, "--version"}).status, 0);
}

TEST_F(SdnetCli, BadArgumentsGiveOneLineAndExitStatus2) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{}, "sdnet: missing command (see 'sdnet --help')"},
        {{"frob"}, "unknown command \"frob\""},
        {{"attach"}, "sdnet attach: missing NET"},
        {{"attach", "net"}, "missing NETNS"},
        {{"attach", "net", kNetns, "extra"}, "too many positional"},
        {{"attach", "--bogus", "net", kNetns}, "unrecognised option '--bogus'"},
        {{"attach", "net", kNetns, "--ifname"}, "--ifname"},
        {{"attach", "net", kNetns, "--ifname", "way-too-long-name"}, "invalid --ifname"},
        {{"attach", "net", kNetns, "--id", "-bad"}, "invalid --id"},
        {{"attach", "bad name", kNetns}, "invalid network name"},
        {{"attach", "net", ".."}, "invalid network namespace"},
        {{"attach", "net", kNetns, "-p", "80"}, "invalid port mapping \"80\""},
        {{"attach", "net", kNetns, "-p", "8080:80/icmp"}, "unknown protocol"},
        {{"attach", "net", kNetns, "--ip", "10.0.0"}, "invalid IP address"},
        {{"attach", "net", kNetns, "--mac", "zz"}, "invalid MAC address"},
        {{"attach", "net", kNetns, "--ingress-rate", "fast"}, "invalid rate \"fast\""},
        {{"attach", "net", kNetns, "--egress-burst", "1M"}, "egressBurst given without"},
        {{"attach", "net", kNetns, "--ip-range", "x"}, "invalid IP range"},
        {{"attach", "net", kNetns, "--capability", "nojson"}, "invalid --capability"},
        {{"attach", "net", kNetns, "--capability", "a={"}, "the value is not JSON"},
        {{"attach", "net", kNetns, "--cni-args", "novalue"}, "invalid CNI_ARGS pair"},
        {{"detach", "net"}, "missing NETNS"},
        {{"check"}, "missing NET"},
        {{"status"}, "missing NET"},
        {{"gc", "a", "b"}, "too many positional"},
        {{"ls", "x"}, "too many positional"},
        {{"ps", "--json=3"}, "json"},
        {{"--conf-dir"}, "conf-dir"},
    };
    for (const auto& [args, needle] : cases) {
        auto r = args.empty() ? sdnet::test::run_process({SDNET_EXE}) : sdnet(args);
        SCOPED_TRACE(needle);
        expect_one_line_error(r, needle, 2);
    }
    EXPECT_TRUE(fakes_.calls().empty());
}

TEST_F(SdnetCli, RepeatedGlobalOptionIsAUsageError) {
    expect_one_line_error(sdnet({"--conf-dir", conf_.string(), "ls"}),
                          "option '--conf-dir' cannot be specified more than once", 2);
}

TEST_F(SdnetCli, RuntimeFailuresGiveOneLineAndExitStatus1) {
    write_file(tmp_ / "bad.d/10-x.conflist", "{\"name\": \"x\",\n \"plugins\": [ {\"type\": 1} ]}");
    write_file(tmp_ / "json.d/10-x.conflist", "{\"name\": \"x\",\n");
    auto bad = tmp_ / "bad.d";
    auto broken = tmp_ / "json.d";
    auto missing = tmp_ / "nodir";
    const std::vector<std::tuple<std::filesystem::path, std::vector<std::string>, std::string>>
        cases = {
            {conf_, {"attach", "nonet", kNetns}, "no network named \"nonet\" in " + conf_.string()},
            {conf_,
             {"attach", "net", "no-such-ns"},
             "network namespace /run/netns/no-such-ns does not exist"},
            {conf_,
             {"attach", "old", kNetns, "-p", "80:80"},
             "has no plugin with the \"portMappings\" capability, needed by -p"},
            {bad, {"attach", "x", kNetns}, "10-x.conflist: \"plugins[0].type\": must be a string"},
            {broken, {"status", "x"}, "10-x.conflist: invalid JSON"},
            {conf_, {"check", "net", kNetns}, "not attached: no cache entry"},
            {missing, {"ls"}, "does not exist"},
            {missing, {"gc", "net"}, "(the directory does not exist)"},
        };
    for (const auto& [conf, args, needle] : cases) {
        SCOPED_TRACE(needle);
        expect_one_line_error(sdnet_in(conf, args), needle, 1);
    }
}

TEST_F(SdnetCli, AttachPrintsTheAttachmentAndDetachRemovesIt) {
    auto r = sdnet({"attach", "net", kNetns, "-p", "8080:80", "-p", "127.0.0.1:53:53/udp"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    EXPECT_NE(r.out.find("attached net to /proc/self/ns/net"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(cid_), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("10.9.0.4/24"), std::string::npos) << r.out;  // c's address
    EXPECT_NE(r.out.find("127.0.0.1:53 -> 53/udp"), std::string::npos) << r.out;
    EXPECT_EQ(fakes_.calls(), (Calls{"a ADD", "portmap ADD", "c ADD"}));
    EXPECT_EQ(fakes_.stdin_of(1)["runtimeConfig"]["portMappings"].size(), 2u);
    EXPECT_FALSE(fakes_.stdin_of(2).contains("runtimeConfig"));
    EXPECT_TRUE(std::filesystem::exists(cache_file()));

    expect_one_line_error(sdnet({"attach", "net", kNetns}), "already attached", 1);

    fakes_.clear_log();
    r = sdnet({"check", "net", kNetns});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(fakes_.calls(), (Calls{"a CHECK", "portmap CHECK", "c CHECK"}));

    fakes_.clear_log();
    r = sdnet({"detach", "net", kNetns});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(fakes_.calls(), (Calls{"c DEL", "portmap DEL", "a DEL"}));
    // DEL gets the cached capability args: the port mappings go away without repeating -p.
    EXPECT_EQ(fakes_.stdin_of(1)["runtimeConfig"]["portMappings"].size(), 2u);
    EXPECT_EQ(fakes_.stdin_of(0)["prevResult"]["ips"][0]["address"], "10.9.0.4/24");
    EXPECT_FALSE(std::filesystem::exists(cache_file()));
    EXPECT_EQ(sdnet({"detach", "net", kNetns}).status, 0);  // DEL is idempotent
}

TEST_F(SdnetCli, AttachJsonPrintsTheResult) {
    auto r = sdnet({"attach", "net", kNetns, "--json", "--ifname", "net1", "--id", "ctr-1"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(json::parse(r.out), fakes_.result_of("c"));
    auto env = fakes_.env_of(0);
    EXPECT_EQ(env["CNI_IFNAME"], "net1");
    EXPECT_EQ(env["CNI_CONTAINERID"], "ctr-1");
    EXPECT_EQ(env["CNI_NETNS"], kNetns);
}

TEST_F(SdnetCli, CapabilityOptionsBecomeRuntimeConfig) {
    write_file(conf_ / "30-caps.conflist",
               R"({"cniVersion":"1.0.0","name":"caps","plugins":[{"type":"a","capabilities":)"
               R"({"ips":true,"mac":true,"bandwidth":true,"ipRanges":true,"aliases":true}}]})");
    auto r = sdnet({"attach", "caps", kNetns, "--ip", "10.1.0.5/24", "--mac", "02:AA:00:00:00:01",
                    "--ingress-rate", "10M", "--egress-rate", "1M", "--egress-burst", "2M",
                    "--ip-range", "10.1.0.0/24", "--capability", R"(aliases={"caps":["web"]})",
                    "--cni-args", "IgnoreUnknown=1;FOO=bar"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(fakes_.stdin_of(0)["runtimeConfig"], json::parse(R"({
        "ips": ["10.1.0.5/24"], "mac": "02:aa:00:00:00:01",
        "bandwidth": {"ingressRate": 10000000, "ingressBurst": 1250000,
                      "egressRate": 1000000, "egressBurst": 2000000},
        "ipRanges": [[{"subnet": "10.1.0.0/24"}]], "aliases": {"caps": ["web"]}})"));
    EXPECT_EQ(fakes_.env_of(0)["CNI_ARGS"], "IgnoreUnknown=1;FOO=bar");
}

TEST_F(SdnetCli, FailedAttachRollsBackAndSaysWhichPlugin) {
    fakes_.fail("portmap", "ADD", 999, "no iptables");
    auto r = sdnet({"attach", "net", kNetns});
    expect_one_line_error(r, "plugin \"portmap\" failed (ADD): no iptables", 1);
    EXPECT_EQ(fakes_.calls(), (Calls{"a ADD", "portmap ADD", "c DEL", "portmap DEL", "a DEL"}));
    EXPECT_FALSE(std::filesystem::exists(cache_file()));
}

TEST_F(SdnetCli, DetachWithCorruptCacheStillDeletes) {
    write_file(cache_file(), "{\"kind\":");
    auto r = sdnet({"detach", "net", kNetns});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(fakes_.calls(), (Calls{"c DEL", "portmap DEL", "a DEL"}));
    EXPECT_FALSE(fakes_.stdin_of(0).contains("prevResult"));
    EXPECT_FALSE(std::filesystem::exists(cache_file()));
}

TEST_F(SdnetCli, DetachFallsBackToTheCachedConfig) {
    ASSERT_EQ(sdnet({"attach", "old", kNetns}).status, 0);
    std::filesystem::remove(conf_ / "20-old.conflist");
    fakes_.clear_log();
    auto r = sdnet({"detach", "old", kNetns});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(fakes_.calls(), (Calls{"a DEL"}));
    expect_one_line_error(sdnet({"detach", "old", kNetns}), "no network named \"old\"", 1);
}

TEST_F(SdnetCli, PsListsAttachmentsAsTableAndJson) {
    ASSERT_EQ(sdnet({"attach", "net", kNetns}).status, 0);
    ASSERT_EQ(sdnet({"attach", "old", kNetns, "--ifname", "eth1"}).status, 0);
    auto r = sdnet({"ps"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("NETWORK"), std::string::npos);
    EXPECT_NE(r.out.find("10.9.0.4/24"), std::string::npos) << r.out;
    r = sdnet({"ps", "--json", "--net", "old"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = json::parse(r.out);
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["network"], "old");
    EXPECT_EQ(j[0]["ifName"], "eth1");
    EXPECT_EQ(j[0]["containerId"], cid_);
    EXPECT_EQ(j[0]["netns"], kNetns);
    EXPECT_EQ(j[0]["netnsExists"], true);
    EXPECT_EQ(j[0]["ips"], json::array({"10.9.0.2/24"}));
}

TEST_F(SdnetCli, GcReleasesAttachmentsWhoseNetnsIsGone) {
    ASSERT_EQ(sdnet({"attach", "net", kNetns}).status, 0);
    libcni::ResultCache cache(cache_);
    auto stale = *cache.read("net", cid_, "eth0");
    stale.container_id = "gone-1";
    stale.netns = "/run/netns/sdnet-test-gone";
    cache.write(stale);
    fakes_.clear_log();
    auto r = sdnet({"gc", "net", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = json::parse(r.out);
    ASSERT_EQ(j["deleted"].size(), 1u);
    EXPECT_EQ(j["deleted"][0]["containerId"], "gone-1");
    EXPECT_EQ(j["kept"][0]["containerId"], cid_);
    EXPECT_EQ(fakes_.calls(),
              (Calls{"c DEL", "portmap DEL", "a DEL", "a GC", "portmap GC", "c GC"}));
    EXPECT_EQ(fakes_.env_of(0)["CNI_NETNS"], "/run/netns/sdnet-test-gone");
    EXPECT_EQ(fakes_.stdin_of(3)["cni.dev/valid-attachments"],
              json::parse(R"([{"containerID":")" + cid_ + R"(","ifname":"eth0"}])"));
    EXPECT_FALSE(cache.read("net", "gone-1", "eth0"));
    EXPECT_TRUE(cache.read("net", cid_, "eth0"));

    fakes_.clear_log();
    r = sdnet({"gc", "net", "--dry-run"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("net: 0 stale, 1 live"), std::string::npos) << r.out;
    EXPECT_TRUE(fakes_.calls().empty());

    fakes_.fail("c", "GC", 999, "gc broke");
    expect_one_line_error(sdnet({"gc", "net"}), "plugin \"c\" failed (GC): gc broke", 1, true);
}

// libcni before 1.2 (podman 4, containerd 1.7) does not record the netns: such an attachment
// may be live, so gc must not DEL it.
TEST_F(SdnetCli, GcKeepsAttachmentsWhoseNetnsIsUnknown) {
    libcni::ResultCache cache(cache_);
    cache.write({"unknown-1",
                 "{}",
                 "eth0",
                 "net",
                 "",
                 {},
                 json::object(),
                 json::parse(R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}]})")});
    auto r = sdnet({"gc", "net", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = json::parse(r.out);
    EXPECT_EQ(j["deleted"], json::array()) << r.out;
    ASSERT_EQ(j["kept"].size(), 1u) << r.out;
    EXPECT_EQ(j["kept"][0]["containerId"], "unknown-1");
    EXPECT_EQ(fakes_.calls(), (Calls{"a GC", "portmap GC", "c GC"}));
    EXPECT_TRUE(cache.read("net", "unknown-1", "eth0"));
}

TEST_F(SdnetCli, StatusReportsReadinessPerVersion) {
    auto r = sdnet({"status", "net"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "net: ready\n");
    r = sdnet({"status", "old", "--json"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["checked"], false);
    fakes_.fail("portmap", "STATUS", 50, "no addresses left");
    expect_one_line_error(sdnet({"status", "net"}), "no addresses left [CNI code 50]", 1);
    EXPECT_EQ(fakes_.calls(),
              (Calls{"a STATUS", "portmap STATUS", "c STATUS", "a STATUS", "portmap STATUS"}));
}

TEST_F(SdnetCli, LsListsNetworksAndReportsBrokenFiles) {
    auto r = sdnet({"ls"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("a -> portmap -> c"), std::string::npos) << r.out;
    r = sdnet({"ls", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = json::parse(r.out);
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[0]["name"], "net");
    EXPECT_EQ(j[0]["plugins"], json::parse(R"(["a","portmap","c"])"));
    EXPECT_EQ(j[0]["capabilities"], json::parse(R"(["portMappings"])"));
    EXPECT_EQ(j[1]["cniVersion"], "1.0.0");

    write_file(conf_ / "15-broken.conflist", "{");
    r = sdnet({"ls"});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err_lines(), 1u) << r.err;
    EXPECT_NE(r.err.find("15-broken.conflist: invalid JSON"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("old"), std::string::npos);  // the good ones are still listed
}

TEST_F(SdnetCli, RepositoryConfsLoad) {
    auto r = sdnet::test::run_process(
        {SDNET_EXE, "--conf-dir", SDNET_SOURCE_DIR "/conf", "ls", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = json::parse(r.out);
    std::vector<std::string> names;
    for (const auto& net : j) {
        names.push_back(net["name"]);
    }
    // Every example in conf/, in file-name order, as a user of `sdnet ls` sees them.
    EXPECT_EQ(names, (std::vector<std::string>{"lo", "sdnet-bridge", "sdnet-macvlan",
                                               "sdnet-ipvlan", "sdnet-vlan", "sdnet-tap"}));
    ASSERT_GE(j.size(), 2u);
    EXPECT_EQ(j[1]["plugins"][0], "bridge");
}

}  // namespace
