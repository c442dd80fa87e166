#include "ipam/config.hpp"

#include <gtest/gtest.h>

#include "plugins/cni/error.hpp"

namespace ipam {
namespace {

using netlib::IpAddr;
using nlohmann::json;

json conf(json ipam, json extra = json::object()) {
    json c = {{"cniVersion", "1.0.0"}, {"name", "net1"}, {"type", "bridge"}, {"ipam", ipam}};
    c.update(extra);
    return c;
}

json ranges(std::initializer_list<const char*> subnets) {
    json sets = json::array();
    for (const char* s : subnets) {
        sets.push_back(json::array({{{"subnet", s}}}));
    }
    return {{"type", "host-local"}, {"ranges", sets}};
}

// Expects parse_config to throw `code` with every fragment in the message.
void expect_error(const json& c, cni::Code code, std::initializer_list<std::string> parts,
                  std::string_view cni_args = {}) {
    try {
        parse_config(c, cni_args);
        ADD_FAILURE() << "no error for " << c.dump();
    } catch (const cni::Error& e) {
        EXPECT_EQ(e.code(), code) << e.what();
        std::string all = std::string{e.what()} + " " + e.details();
        for (const auto& p : parts) {
            EXPECT_NE(all.find(p), std::string::npos) << "'" << p << "' not in: " << all;
        }
    }
}

TEST(ConfigTest, RangesAndDefaults) {
    auto c = parse_config(conf(ranges({"10.1.0.0/24", "fd00::/64"})), "");
    EXPECT_EQ(c.location, (Location{"net1", ""}));
    ASSERT_EQ(c.range_sets.size(), 2u);
    EXPECT_EQ(c.range_sets[0].to_string(), "10.1.0.1-10.1.0.254");
    EXPECT_EQ(c.range_sets[1].family(), netlib::Family::V6);
    EXPECT_TRUE(c.routes.empty());
    EXPECT_TRUE(c.requested.empty());
}

TEST(ConfigTest, RangeOrderIsIpRangesThenLegacyThenRanges) {
    json ipam = ranges({"10.3.0.0/24"});
    ipam["subnet"] = "10.2.0.0/24";
    ipam["rangeStart"] = "10.2.0.10";
    ipam["gateway"] = "10.2.0.254";
    ipam["dataDir"] = "/tmp/x";
    json rc = {{"runtimeConfig",
                {{"ipRanges", json::array({json::array({{{"subnet", "10.1.0.0/24"}}})})}}}};
    auto c = parse_config(conf(ipam, rc), "");
    ASSERT_EQ(c.range_sets.size(), 3u);
    EXPECT_EQ(c.range_sets[0].ranges[0].subnet.to_string(), "10.1.0.0/24");
    EXPECT_EQ(c.range_sets[1].to_string(), "10.2.0.10-10.2.0.254");
    EXPECT_EQ(c.range_sets[1].ranges[0].gateway, IpAddr::parse("10.2.0.254"));
    EXPECT_EQ(c.range_sets[2].ranges[0].subnet.to_string(), "10.3.0.0/24");
    EXPECT_EQ(c.location.data_dir, "/tmp/x");
}

TEST(ConfigTest, KeysMatchCaseInsensitively) {
    json c = {
        {"cniVersion", "1.0.0"},
        {"NAME", "net1"},
        {"IPAM",
         {{"Ranges",
           json::array({json::array({{{"SUBNET", "10.1.0.0/24"}, {"RangeStart", "10.1.0.5"}}})})},
          {"DATADIR", "/d"}}}};
    auto cfg = parse_config(c, "");
    EXPECT_EQ(cfg.range_sets[0].ranges[0].start, IpAddr::parse("10.1.0.5"));
    EXPECT_EQ(cfg.location.data_dir, "/d");
}

TEST(ConfigTest, RoutesAndResolvConf) {
    json ipam = ranges({"10.1.0.0/24"});
    ipam["routes"] = json::array(
        {{{"dst", "0.0.0.0/0"}}, {{"dst", "192.168.0.0/16"}, {"gw", "10.1.0.254"}, {"mtu", 1400}}});
    ipam["resolvConf"] = "/etc/resolv.conf";
    auto c = parse_config(conf(ipam), "");
    ASSERT_EQ(c.routes.size(), 2u);
    EXPECT_EQ(c.routes[0].dst.to_string(), "0.0.0.0/0");
    EXPECT_FALSE(c.routes[0].gw);
    EXPECT_EQ(c.routes[1].gw, IpAddr::parse("10.1.0.254"));
    EXPECT_EQ(c.routes[1].mtu, 1400);
    EXPECT_EQ(c.resolv_conf, "/etc/resolv.conf");

    ipam["routes"] = json::array({{{"dst", "10.0.0.300/8"}}});
    expect_error(conf(ipam), cni::Code::InvalidConfig, {"ipam.routes[0].dst", "10.0.0.300/8"});
    ipam["routes"] = json::array({{{"gw", "10.0.0.1"}}});
    expect_error(conf(ipam), cni::Code::InvalidConfig, {"ipam.routes[0].dst", "required"});
}

TEST(ConfigTest, RequestedIpsFromAllThreeSourcesInOrderWithoutDuplicates) {
    json extra = {{"args", {{"cni", {{"ips", {"10.1.0.7", "10.1.0.5/24"}}}}}},
                  {"runtimeConfig", {{"ips", {"fd00::9/64", "10.1.0.7"}}}}};
    auto c = parse_config(conf(ranges({"10.1.0.0/24", "fd00::/64"}), extra),
                          "IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.1.0.5");
    ASSERT_EQ(c.requested.size(), 3u);
    EXPECT_EQ(c.requested[0], (RequestedIp{IpAddr::parse("10.1.0.5"), "CNI_ARGS IP"}));
    EXPECT_EQ(c.requested[1], (RequestedIp{IpAddr::parse("10.1.0.7"), "args.cni.ips[0]"}));
    EXPECT_EQ(c.requested[2], (RequestedIp{IpAddr::parse("fd00::9"), "runtimeConfig.ips[0]"}));
}

TEST(ConfigTest, CniArgsRules) {
    json c = conf(ranges({"10.1.0.0/24"}));
    expect_error(c, cni::Code::InvalidEnv, {"K8S_POD_NAME"}, "IP=10.1.0.5;K8S_POD_NAME=x");
    expect_error(c, cni::Code::InvalidEnv, {"ip"}, "ip=10.1.0.5");  // keys are case-sensitive
    expect_error(c, cni::Code::InvalidEnv, {"IP=", "10.1.0.500"}, "IP=10.1.0.500");
    expect_error(c, cni::Code::InvalidEnv, {"IP="}, "IP=");
    EXPECT_EQ(parse_config(c, "IgnoreUnknown=true;FOO=1").requested.size(), 0u);
    EXPECT_EQ(parse_config(c, "IP=10.1.0.5,10.1.0.6").requested.size(), 2u);
}

TEST(ConfigTest, MalformedRequestedIpsNameTheKey) {
    expect_error(
        conf(ranges({"10.1.0.0/24"}), {{"runtimeConfig", {{"ips", {"10.1.0.5", "nope"}}}}}),
        cni::Code::InvalidConfig, {"runtimeConfig.ips[1]", "nope"});
    expect_error(conf(ranges({"10.1.0.0/24"}), {{"args", {{"cni", {{"ips", {7}}}}}}}),
                 cni::Code::InvalidConfig, {"args.cni.ips[0]", "string"});
}

TEST(ConfigTest, StructuralErrors) {
    json c = conf(ranges({"10.1.0.0/24"}));
    c.erase("ipam");
    expect_error(c, cni::Code::InvalidConfig, {"ipam"});
    expect_error(conf({{"type", "host-local"}}), cni::Code::InvalidConfig, {"no IP ranges"});
    expect_error(conf({{"ranges", "10.0.0.0/8"}}), cni::Code::InvalidConfig,
                 {"ipam.ranges", "list"});
    expect_error(conf({{"ranges", {{"x"}}}}), cni::Code::InvalidConfig,
                 {"ipam.ranges[0][0]", "object"});
    expect_error(conf({{"ranges", {json::array()}}}), cni::Code::InvalidConfig,
                 {"ipam.ranges[0]", "empty"});
    expect_error(conf({{"ranges", {{{{"rangeStart", "10.0.0.1"}}}}}}), cni::Code::InvalidConfig,
                 {"ipam.ranges[0][0].subnet", "required"});
    expect_error(conf({{"subnet", 10}}), cni::Code::InvalidConfig, {"ipam.subnet", "string"});
}

TEST(ConfigTest, AddressErrorsNameKeyAndValue) {
    expect_error(conf({{"ranges", {{{{"subnet", "10.1.0.0/33"}}}}}}), cni::Code::InvalidConfig,
                 {"ipam.ranges[0][0].subnet", "10.1.0.0/33", "CIDR"});
    expect_error(conf({{"ranges", {{{{"subnet", "10.1.0.0"}}}}}}), cni::Code::InvalidConfig,
                 {"ipam.ranges[0][0].subnet", "10.1.0.0"});
    expect_error(conf({{"subnet", "10.1.0.0/24"}, {"rangeStart", "10.1.0.x"}}),
                 cni::Code::InvalidConfig, {"ipam.rangeStart", "10.1.0.x"});
    expect_error(conf({{"subnet", "10.1.0.0/24"}, {"gateway", "10.2.0.1"}}),
                 cni::Code::InvalidConfig, {"ipam.gateway", "10.2.0.1", "10.1.0.0/24"});
    expect_error(conf({{"subnet", "10.1.0.1/24"}}), cni::Code::InvalidConfig,
                 {"ipam.subnet", "10.1.0.1/24", "host bits"});
    expect_error(conf({{"subnet", "10.1.0.0/32"}}), cni::Code::InvalidConfig,
                 {"ipam.subnet", "10.1.0.0/32", "too small"});
}

TEST(ConfigTest, SetLevelErrors) {
    expect_error(conf(ranges({"10.1.0.0/24", "10.1.0.0/16"})), cni::Code::InvalidConfig,
                 {"ipam.ranges[0]", "ipam.ranges[1]", "overlap"});
    json legacy = ranges({"10.1.0.0/24"});
    legacy["subnet"] = "10.1.0.128/25";
    expect_error(conf(legacy), cni::Code::InvalidConfig, {"\"ipam\"", "ipam.ranges[0]", "overlap"});
    expect_error(conf({{"ranges", {{{{"subnet", "10.1.0.0/24"}}, {{"subnet", "fd00::/64"}}}}}}),
                 cni::Code::InvalidConfig, {"ipam.ranges[0]", "mixes"});
    json old = conf(ranges({"10.1.0.0/24", "10.2.0.0/24"}));
    old["cniVersion"] = "0.2.0";
    expect_error(old, cni::Code::InvalidConfig, {"0.2.0", "more than 1 address per family"});
    old["cniVersion"] = "0.3.1";
    EXPECT_NO_THROW(parse_config(old, ""));
}

TEST(ConfigTest, LocationIgnoresTheRanges) {
    json c = conf({{"ranges", "garbage"}, {"dataDir", "/var/x"}});
    EXPECT_EQ(parse_location(c), (Location{"net1", "/var/x"}));
    c["name"] = "../etc";
    expect_error(c, cni::Code::InvalidConfig, {"name", "../etc"});
}

TEST(ConfigTest, ResolvConf) {
    auto dns = parse_resolv_conf(
        "# comment\n; other\nnameserver 10.0.0.53\nnameserver fd00::53\n"
        "domain example.org\nsearch a.example b.example\n  options ndots:2 edns0\nbogus\n"
        "sortlist 1.2.3.4\n");
    EXPECT_EQ(dns.nameservers, (std::vector<std::string>{"10.0.0.53", "fd00::53"}));
    EXPECT_EQ(dns.domain, "example.org");
    EXPECT_EQ(dns.search, (std::vector<std::string>{"a.example", "b.example"}));
    EXPECT_EQ(dns.options, (std::vector<std::string>{"ndots:2", "edns0"}));
}

}  // namespace
}  // namespace ipam
