// Process-level tests of the host-local binary: every behaviour of the issue, and every bad
// input, through the CNI protocol (environment + stdin -> stdout + exit status).
#include <filesystem>
#include <gtest/gtest.h>

#include "exec_fixture.hpp"

namespace ipam::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json set_of(json ranges) {
    return json::array({std::move(ranges)});
}

class HostLocalBinaryTest : public HostLocalExecTest {};

TEST_F(HostLocalBinaryTest, AddIpv4WritesTheReferenceLayout) {
    auto e = ours("ADD", "c1");
    ASSERT_EQ(e.status, 0) << e.out << e.err;
    EXPECT_EQ(e.json(), json::parse(R"({"cniVersion":"1.0.0","dns":{},
        "ips":[{"address":"10.5.0.2/24","gateway":"10.5.0.1"}]})"));
    EXPECT_EQ(reservations(), (std::map<std::string, std::string>{{"10.5.0.2", "c1\r\neth0"}}));
    EXPECT_EQ(read_file(net_ / "last_reserved_ip.0"), "10.5.0.2");
    EXPECT_TRUE(fs::exists(net_ / "lock"));
}

TEST_F(HostLocalBinaryTest, AddIpv6) {
    ipam_["ranges"] = set_of({{{"subnet", "fd05::/64"}}});
    auto e = ours("ADD", "c1");
    ASSERT_EQ(e.status, 0) << e.out;
    EXPECT_EQ(e.json()["ips"][0], json::parse(R"({"address":"fd05::2/64","gateway":"fd05::1"})"));
    EXPECT_EQ(read_file(net_ / "fd05::2"), "c1\r\neth0");
}

TEST_F(HostLocalBinaryTest, DualStackWithRoutesAndDns) {
    write_file(tmp_.path() / "resolv.conf",
               "nameserver 10.5.0.53\ndomain example.org\nsearch a.example b.example\n"
               "options ndots:2\n");
    ipam_["ranges"] = json::array(
        {set_of({{{"subnet", "10.5.0.0/24"}}})[0], set_of({{{"subnet", "fd05::/64"}}})[0]});
    ipam_["routes"] = json::array({{{"dst", "0.0.0.0/0"}}, {{"dst", "::/0"}, {"gw", "fd05::fe"}}});
    ipam_["resolvConf"] = tmp_.str() + "/resolv.conf";
    auto e = ours("ADD", "c1");
    ASSERT_EQ(e.status, 0) << e.out;
    EXPECT_EQ(e.json(), json::parse(R"({"cniVersion":"1.0.0",
        "ips":[{"address":"10.5.0.2/24","gateway":"10.5.0.1"},
               {"address":"fd05::2/64","gateway":"fd05::1"}],
        "routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0","gw":"fd05::fe"}],
        "dns":{"nameservers":["10.5.0.53"],"domain":"example.org",
               "search":["a.example","b.example"],"options":["ndots:2"]}})"));
    EXPECT_EQ(read_file(net_ / "last_reserved_ip.1"), "fd05::2");
}

TEST_F(HostLocalBinaryTest, ResultInTheRequestVersion) {
    version_ = "0.3.1";
    auto e = ours("ADD", "c1");
    ASSERT_EQ(e.status, 0) << e.out;
    EXPECT_EQ(e.json()["cniVersion"], "0.3.1");
    EXPECT_EQ(e.json()["ips"][0]["version"], "4");
    version_ = "1.1.0";
    EXPECT_EQ(ours("ADD", "c2").json()["cniVersion"], "1.1.0");
}

TEST_F(HostLocalBinaryTest, LegacyTopLevelRange) {
    ipam_ = {{"type", "host-local"},       {"dataDir", tmp_.str()},    {"subnet", "10.6.0.0/24"},
             {"rangeStart", "10.6.0.100"}, {"rangeEnd", "10.6.0.101"}, {"gateway", "10.6.0.254"}};
    auto e = ours("ADD", "c1");
    ASSERT_EQ(e.status, 0) << e.out;
    EXPECT_EQ(e.json()["ips"][0],
              json::parse(R"({"address":"10.6.0.100/24","gateway":"10.6.0.254"})"));
}

TEST_F(HostLocalBinaryTest, KeysAreCaseInsensitive) {
    json c = {
        {"CNIVERSION", "1.0.0"},
        {"cniVersion", "1.0.0"},
        {"name", "net1"},
        {"type", "x"},
        {"IPAM", {{"DataDir", tmp_.str()}, {"RANGES", set_of({{{"Subnet", "10.5.0.0/24"}}})}}}};
    auto e = run(our_host_local(), cni_env("ADD", "c1"), c.dump());
    ASSERT_EQ(e.status, 0) << e.out;
    EXPECT_EQ(address_of(e, 0), "10.5.0.2");
}

TEST_F(HostLocalBinaryTest, RoundRobinWrapsAndSkipsNetworkBroadcastAndGateway) {
    ipam_["ranges"] = set_of({{{"subnet", "10.5.0.0/29"},
                               {"rangeStart", "10.5.0.0"},
                               {"rangeEnd", "10.5.0.7"},
                               {"gateway", "10.5.0.3"}}});
    // .0 network, .3 gateway, .7 broadcast are never handed out.
    EXPECT_EQ(add_ip("a"), "10.5.0.1");
    EXPECT_EQ(add_ip("b"), "10.5.0.2");
    EXPECT_EQ(add_ip("c"), "10.5.0.4");
    ASSERT_EQ(ours("DEL", "a").status, 0);
    EXPECT_EQ(add_ip("d"), "10.5.0.5");  // round-robin: not a's address again
    EXPECT_EQ(add_ip("e"), "10.5.0.6");
    EXPECT_EQ(add_ip("f"), "10.5.0.1");  // wrapped, skipping .7 and .0
}

TEST_F(HostLocalBinaryTest, ExhaustionNamesTheRange) {
    ipam_["ranges"] = set_of(
        {{{"subnet", "10.5.0.0/24"}, {"rangeStart", "10.5.0.10"}, {"rangeEnd", "10.5.0.11"}}});
    add_ip("a");
    add_ip("b");
    auto e = ours("ADD", "c");
    EXPECT_EQ(e.status, 1);
    EXPECT_EQ(e.code(), 999);
    EXPECT_EQ(e.msg(),
              "failed to allocate for range 0: no IP addresses available in range set: "
              "10.5.0.10-10.5.0.11");
    EXPECT_EQ(reservations().size(), 2u);
}

TEST_F(HostLocalBinaryTest, SecondAddForTheSamePairIsAnError) {
    add_ip("c1");
    auto e = ours("ADD", "c1");
    EXPECT_EQ(e.code(), 999);
    EXPECT_NE(e.msg().find("duplicate allocation is not allowed"), std::string::npos) << e.msg();
    EXPECT_EQ(reservations().size(), 1u);
    // Another interface of the same container is another attachment.
    EXPECT_EQ(ours("ADD", "c1", json::object(), {}, "eth1").status, 0);
}

TEST_F(HostLocalBinaryTest, RequestedAddresses) {
    EXPECT_EQ(add_ip("a", {{"runtimeConfig", {{"ips", {"10.5.0.50/24"}}}}}), "10.5.0.50");
    EXPECT_EQ(add_ip("b", {{"args", {{"cni", {{"ips", {"10.5.0.51"}}}}}}}), "10.5.0.51");
    EXPECT_EQ(add_ip("c", json::object(), "IgnoreUnknown=1;K8S_POD_NAME=p;IP=10.5.0.52"),
              "10.5.0.52");
    EXPECT_EQ(read_file(net_ / "last_reserved_ip.0"), "10.5.0.52");
    auto taken = ours("ADD", "d", {{"runtimeConfig", {{"ips", {"10.5.0.50"}}}}});
    EXPECT_EQ(taken.code(), 999);
    EXPECT_NE(taken.msg().find("10.5.0.50 is not available"), std::string::npos) << taken.msg();
    EXPECT_EQ(add_ip("e"), "10.5.0.53");  // round-robin continues after the last reservation
}

TEST_F(HostLocalBinaryTest, IpRangesCapabilityIsPrepended) {
    json rc = {
        {"runtimeConfig", {{"ipRanges", json::array({set_of({{{"subnet", "10.7.0.0/24"}}})[0]})}}}};
    auto e = ours("ADD", "c1", rc);
    ASSERT_EQ(e.status, 0) << e.out;
    ASSERT_EQ(e.json()["ips"].size(), 2u);
    EXPECT_EQ(address_of(e, 0), "10.7.0.2");
    EXPECT_EQ(address_of(e, 1), "10.5.0.2");
    EXPECT_EQ(read_file(net_ / "last_reserved_ip.0"), "10.7.0.2");
}

TEST_F(HostLocalBinaryTest, DelReleasesIsIdempotentAndAcceptsUnknownContainers) {
    add_ip("c1");
    add_ip("c2");
    EXPECT_EQ(ours("DEL", "c1").status, 0);
    EXPECT_EQ(reservations(), (std::map<std::string, std::string>{{"10.5.0.3", "c2\r\neth0"}}));
    EXPECT_EQ(ours("DEL", "c1").status, 0);
    EXPECT_EQ(ours("DEL", "never-seen").status, 0);
    auto no_netns = cni_env("DEL", "c2");
    no_netns.erase("CNI_NETNS");
    EXPECT_EQ(run(our_host_local(), no_netns, config().dump()).status, 0);
    EXPECT_TRUE(reservations().empty());
}

TEST_F(HostLocalBinaryTest, DelFallsBackToTheLegacyIdOnlyFormat) {
    add_ip("c1");
    write_file(net_ / "10.5.0.9", "old\n");
    write_file(net_ / "10.5.0.10", "old\r\neth1");  // another ifname of it: not released
    EXPECT_EQ(ours("DEL", "old").status, 0);
    EXPECT_FALSE(fs::exists(net_ / "10.5.0.9"));
    EXPECT_TRUE(fs::exists(net_ / "10.5.0.10"));
}

TEST_F(HostLocalBinaryTest, CheckVerifiesTheReservation) {
    auto add = ours("ADD", "c1");
    ASSERT_EQ(add.status, 0);
    EXPECT_EQ(ours("CHECK", "c1").status, 0);
    EXPECT_EQ(ours("CHECK", "c1", {{"prevResult", add.json()}}).status, 0);
    json wrong = add.json();
    wrong["ips"][0]["address"] = "10.5.0.77/24";
    EXPECT_EQ(ours("CHECK", "c1", {{"prevResult", wrong}}).code(), 999);
    ours("DEL", "c1");
    auto gone = ours("CHECK", "c1");
    EXPECT_EQ(gone.code(), 999);
    EXPECT_NE(gone.msg().find("Failed to find address"), std::string::npos);
}

TEST_F(HostLocalBinaryTest, GcReleasesWhatIsNotValid) {
    version_ = "1.1.0";
    add_ip("keep");
    add_ip("drop");
    ASSERT_EQ(ours("ADD", "keep", json::object(), {}, "eth1").status, 0);
    auto gc = [&](const json& extra) {
        return run(our_host_local(), {{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/usr/lib/cni"}},
                   config(extra).dump());
    };
    EXPECT_EQ(gc(json::object()).status, 0);  // no list: nothing released (see host_local.hpp)
    EXPECT_EQ(reservations().size(), 3u);
    auto e = gc({{"cni.dev/valid-attachments", {{{"containerID", "keep"}, {"ifname", "eth0"}}}}});
    EXPECT_EQ(e.status, 0) << e.out;
    EXPECT_EQ(e.out, "");
    EXPECT_EQ(reservations(), (std::map<std::string, std::string>{{"10.5.0.2", "keep\r\neth0"}}));
    EXPECT_TRUE(fs::exists(net_ / "lock"));
    EXPECT_EQ(read_file(net_ / "last_reserved_ip.0"), "10.5.0.4");
    EXPECT_EQ(gc({{"cni.dev/attachments", json::array()}}).status, 0);
    EXPECT_TRUE(reservations().empty());
    EXPECT_TRUE(fs::exists(net_ / "lock"));
    EXPECT_TRUE(fs::exists(net_ / "last_reserved_ip.0"));
}

TEST_F(HostLocalBinaryTest, StatusReportsFreeAddresses) {
    version_ = "1.1.0";
    ipam_["ranges"] = set_of(
        {{{"subnet", "10.5.0.0/24"}, {"rangeStart", "10.5.0.10"}, {"rangeEnd", "10.5.0.11"}}});
    auto status = [&] {
        return run(our_host_local(), {{"CNI_COMMAND", "STATUS"}, {"CNI_PATH", "/usr/lib/cni"}},
                   config().dump());
    };
    EXPECT_EQ(status().status, 0);
    add_ip("a");
    EXPECT_EQ(status().status, 0);
    add_ip("b");
    auto full = status();
    EXPECT_EQ(full.code(), 50);
    EXPECT_NE(full.msg().find("10.5.0.10-10.5.0.11"), std::string::npos) << full.msg();
    ours("DEL", "a");
    EXPECT_EQ(status().status, 0);
}

TEST_F(HostLocalBinaryTest, VersionListsSpec110) {
    auto e = run(our_host_local(), {{"CNI_COMMAND", "VERSION"}}, "");
    ASSERT_EQ(e.status, 0);
    auto versions = e.json()["supportedVersions"];
    EXPECT_NE(std::find(versions.begin(), versions.end(), "1.1.0"), versions.end());
}

// ---- bad input -------------------------------------------------------------------------------

struct BadInput {
    const char* name;
    json ipam;  // merged over the default ipam
    json extra;
    std::string cni_args;
    int code;
    std::vector<std::string> fragments;
    std::string version = "1.0.0";
};

void PrintTo(const BadInput& b, std::ostream* os) {
    *os << b.name;
}

class HostLocalBadInputTest : public HostLocalExecTest,
                              public ::testing::WithParamInterface<BadInput> {};

json one(json range) {
    return json::array({json::array({std::move(range)})});
}

const json kSub = {{"subnet", "10.5.0.0/24"}};

std::vector<BadInput> bad_inputs() {
    auto with = [](json extra) {
        json r = kSub;
        r.update(extra);
        return json{{"ranges", one(r)}};
    };
    return {
        {"HostBits",
         {{"ranges", one({{"subnet", "10.5.0.1/24"}})}},
         {},
         {},
         7,
         {"ipam.ranges[0][0].subnet", "10.5.0.1/24", "host bits"}},
        {"Slash31",
         {{"ranges", one({{"subnet", "10.5.0.0/31"}})}},
         {},
         {},
         7,
         {"10.5.0.0/31", "too small"}},
        {"Slash32",
         {{"ranges", one({{"subnet", "10.5.0.1/32"}})}},
         {},
         {},
         7,
         {"10.5.0.1/32", "too small"}},
        {"Slash127",
         {{"ranges", one({{"subnet", "fd05::/127"}})}},
         {},
         {},
         7,
         {"fd05::/127", "too small"}},
        {"Slash128",
         {{"ranges", one({{"subnet", "fd05::1/128"}})}},
         {},
         {},
         7,
         {"fd05::1/128", "too small"}},
        {"StartOutside",
         with({{"rangeStart", "10.6.0.5"}}),
         {},
         {},
         7,
         {"ipam.ranges[0][0].rangeStart", "10.6.0.5", "10.5.0.0/24"}},
        {"EndOutside",
         with({{"rangeEnd", "10.6.0.5"}}),
         {},
         {},
         7,
         {"ipam.ranges[0][0].rangeEnd", "10.6.0.5"}},
        {"GatewayOutside",
         with({{"gateway", "10.6.0.1"}}),
         {},
         {},
         7,
         {"ipam.ranges[0][0].gateway", "10.6.0.1"}},
        {"StartAfterEnd",
         with({{"rangeStart", "10.5.0.9"}, {"rangeEnd", "10.5.0.8"}}),
         {},
         {},
         7,
         {"rangeStart", "10.5.0.9", "after", "10.5.0.8"}},
        {"OverlappingSets",
         {{"ranges", json::array({one(kSub)[0], one({{"subnet", "10.5.0.0/16"}})[0]})}},
         {},
         {},
         7,
         {"ipam.ranges[0]", "ipam.ranges[1]", "overlap"}},
        {"OverlappingRangesInASet",
         {{"ranges", json::array({json::array({kSub, {{"subnet", "10.5.0.128/25"}}})})}},
         {},
         {},
         7,
         {"ipam.ranges[0]", "overlapping"}},
        {"MixedFamilies",
         {{"ranges", json::array({json::array({kSub, {{"subnet", "fd05::/64"}}})})}},
         {},
         {},
         7,
         {"ipam.ranges[0]", "mixes", "fd05::/64"}},
        {"MalformedSubnet",
         {{"ranges", one({{"subnet", "10.5.0.0/99"}})}},
         {},
         {},
         7,
         {"ipam.ranges[0][0].subnet", "10.5.0.0/99"}},
        {"SubnetNotACidr",
         {{"ranges", one({{"subnet", "banana"}})}},
         {},
         {},
         7,
         {"subnet", "banana"}},
        {"MalformedRangeStart",
         with({{"rangeStart", "10.5.0.x"}}),
         {},
         {},
         7,
         {"ipam.ranges[0][0].rangeStart", "10.5.0.x"}},
        {"MalformedGateway", with({{"gateway", "fd05::zz"}}), {}, {}, 7, {"gateway", "fd05::zz"}},
        {"LegacyHostBits",
         {{"ranges", nullptr}, {"subnet", "10.5.0.9/24"}},
         {},
         {},
         7,
         {"ipam.subnet", "10.5.0.9/24"}},
        {"NoRanges", {{"ranges", nullptr}}, {}, {}, 7, {"no IP ranges"}},
        {"RangesNotAList", {{"ranges", "10.5.0.0/24"}}, {}, {}, 7, {"ipam.ranges", "list"}},
        {"BadRoute",
         {{"routes", {{{"dst", "0.0.0/0"}}}}},
         {},
         {},
         7,
         {"ipam.routes[0].dst", "0.0.0/0"}},
        {"MissingResolvConf",
         {{"resolvConf", "/nonexistent/resolv.conf"}},
         {},
         {},
         7,
         {"ipam.resolvConf", "/nonexistent/resolv.conf"}},
        {"RequestedOutsideEveryRange",
         {},
         {{"runtimeConfig", {{"ips", {"10.99.0.5"}}}}},
         {},
         7,
         {"10.99.0.5", "runtimeConfig.ips[0]", "not in any range set", "10.5.0.1-10.5.0.254"}},
        {"RequestedMalformed",
         {},
         {{"runtimeConfig", {{"ips", {"10.5.0.300"}}}}},
         {},
         7,
         {"runtimeConfig.ips[0]", "10.5.0.300"}},
        {"ArgsIpsMalformed",
         {},
         {{"args", {{"cni", {{"ips", {"nope"}}}}}}},
         {},
         7,
         {"args.cni.ips[0]", "nope"}},
        {"RequestedGateway",
         {},
         {{"runtimeConfig", {{"ips", {"10.5.0.1"}}}}},
         {},
         7,
         {"10.5.0.1", "gateway"}},
        {"TwoRequestedInOneSet",
         {},
         {{"runtimeConfig", {{"ips", {"10.5.0.8", "10.5.0.9"}}}}},
         {},
         7,
         {"10.5.0.8", "10.5.0.9", "range set 0"}},
        {"CniArgsMalformedIp", {}, {}, "IP=10.5.0.256", 4, {"CNI_ARGS", "10.5.0.256"}},
        {"CniArgsUnknownKey", {}, {}, "IP=10.5.0.8;K8S_POD_NAME=x", 4, {"K8S_POD_NAME"}},
        {"CniArgsKeysAreCaseSensitive", {}, {}, "ip=10.5.0.8", 4, {"ip"}},
        {"TwoV4SetsBefore030",
         {{"ranges", json::array({one(kSub)[0], one({{"subnet", "10.6.0.0/24"}})[0]})}},
         {},
         {},
         7,
         {"0.2.0", "more than 1 address per family"},
         "0.2.0"},
    };
}

TEST_P(HostLocalBadInputTest, IsRejectedWithANamedError) {
    const BadInput& b = GetParam();
    for (const auto& [k, v] : b.ipam.items()) {
        if (v.is_null()) {
            ipam_.erase(k);
        } else {
            ipam_[k] = v;
        }
    }
    version_ = b.version;
    auto e = ours("ADD", "c1", b.extra.is_null() ? json::object() : b.extra, b.cni_args);
    EXPECT_EQ(e.status, 1) << e.out << e.err;
    EXPECT_EQ(e.code(), b.code) << e.out;
    std::string text = e.msg() + " " +
                       (e.json().contains("details") ? e.json()["details"].get<std::string>() : "");
    for (const auto& f : b.fragments) {
        EXPECT_NE(text.find(f), std::string::npos) << "'" << f << "' not in: " << text;
    }
    EXPECT_TRUE(reservations().empty());
}

INSTANTIATE_TEST_SUITE_P(All, HostLocalBadInputTest, ::testing::ValuesIn(bad_inputs()),
                         [](const auto& p) { return std::string{p.param.name}; });

TEST_F(HostLocalBinaryTest, MalformedJsonAndMissingIpam) {
    auto e = run(our_host_local(), cni_env("ADD", "c1"), "{not json");
    EXPECT_EQ(e.code(), 6);
    json c = config();
    c.erase("ipam");
    e = run(our_host_local(), cni_env("ADD", "c1"), c.dump());
    EXPECT_EQ(e.code(), 7);
    EXPECT_NE(e.msg().find("ipam"), std::string::npos);
}

}  // namespace
}  // namespace ipam::test
