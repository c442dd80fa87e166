// Every bad configuration key gets a clear error with the spec's code and no side effect.
#include <gtest/gtest.h>

#include "tests/support/bridge_harness.hpp"

namespace sdnet::test {
namespace {

using Config = BridgeTest;

struct BadCase {
    const char* patch;    // merged into the base config
    int code;             // expected CNI error code
    const char* message;  // expected in msg
};

// A valid "vlan" on a kernel without VLAN filtering is not a bad key: Vlan.* tests that on both
// kernels.
TEST_F(Config, BadKeysAreRejectedWithTheirName) {
    const BadCase cases[] = {
        {R"({"bridge": "a-name-that-is-too-long"})", 7, "bridge"},
        {R"({"bridge": "bad/name"})", 7, "bridge"},
        {R"({"bridge": 5})", 7, "\"bridge\" must be a string"},
        {R"({"isGateway": "yes"})", 7, "\"isGateway\" must be a boolean"},
        {R"({"mtu": "1500"})", 7, "\"mtu\" must be an integer"},
        {R"({"mtu": 70000})", 7, "\"mtu\""},
        {R"({"mtu": 20})", 7, "\"mtu\""},
        {R"({"hairpinMode": true, "promiscMode": true})", 7, "promiscMode"},
        {R"({"vlan": 5000})", 7, "\"vlan\""},
        {R"({"disableContainerInterface": true})", 7, "disableContainerInterface"},
        {R"({"ipMasqBackend": "pf"})", 7, "ipMasqBackend"},
        {R"({"runtimeConfig": {"mac": "not-a-mac"}})", 7, "runtimeConfig.mac"},
        {R"({"ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.10.0/33"}]]}})", 7,
         "10.88.10.0/33"},
        {R"({"ipam": {"type": "no-such-ipam"}})", 7, "no-such-ipam"},
        {R"({"ipam": "host-local"})", 7, "\"ipam\" must be an object"},
        {R"({"dns": []})", 7, "\"dns\""},
        {R"({"prevResult": {"ips": [{"address": "nope"}]}})", 6, "nope"},
    };
    for (const auto& c : cases) {
        auto ns = make_netns("bad");
        json conf = unmasqueraded_bridge_conf();
        conf.merge_patch(json::parse(c.patch));
        auto r = run("ADD", ns, conf);
        EXPECT_NE(r.r.exit_code, 0) << c.patch;
        EXPECT_EQ(r.code(), c.code) << c.patch << " -> " << r.r.out;
        EXPECT_NE(r.out.value("msg", "").find(c.message), std::string::npos)
            << c.patch << " -> " << r.r.out;
        EXPECT_TRUE(reservations("sdnet-bridge").empty()) << c.patch;
        EXPECT_TRUE(ip_json("link show type veth").empty()) << c.patch;
    }
}

TEST_F(Config, KeysMatchCaseInsensitivelyAndUnknownKeysAreIgnored) {
    auto ns = make_netns("case");
    json conf = unmasqueraded_bridge_conf();
    conf.erase("bridge");
    conf["BRIDGE"] = "sdnetx";
    conf["someFutureKey"] = {{"x", 1}};
    json r = add(ns, conf);
    EXPECT_EQ(r["interfaces"][0]["name"], "sdnetx");
}

TEST_F(Config, CniArgsMacAndUnknownArgs) {
    auto ns = make_netns("args");
    json conf = unmasqueraded_bridge_conf();
    auto env = std::map<std::string, std::string>{
        {"CNI_COMMAND", "ADD"}, {"CNI_CONTAINERID", "args1"},  {"CNI_NETNS", ns.path},
        {"CNI_IFNAME", "eth0"}, {"CNI_PATH", plugin_path("")}, {"CNI_ARGS", "FOO=bar"}};
    auto bad = run_env(env, conf);
    EXPECT_EQ(bad.code(), 4) << bad.r.out;
    env["CNI_ARGS"] = "IgnoreUnknown=1;FOO=bar;MAC=02:00:00:00:00:42";
    auto ok = run_env(env, conf);
    ASSERT_EQ(ok.r.exit_code, 0) << ok.r.out;
    EXPECT_EQ(ok.out["interfaces"][2]["mac"], "02:00:00:00:00:42");
}

}  // namespace
}  // namespace sdnet::test
