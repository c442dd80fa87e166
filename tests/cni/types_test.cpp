#include "plugins/cni/types.hpp"

#include <gtest/gtest.h>

#include "plugins/cni/error.hpp"

namespace cni {
namespace {

Result sample() {
    return parse_result(json::parse(R"({
        "cniVersion": "1.1.0",
        "interfaces": [{"name": "cni0", "mac": "aa:bb:cc:dd:ee:ff", "mtu": 1500},
                       {"name": "eth0", "mac": "02:00:00:00:00:01", "sandbox": "/run/netns/c"}],
        "ips": [{"interface": 1, "address": "10.1.0.5/24", "gateway": "10.1.0.1"},
                {"interface": 1, "address": "fd00::5/64", "gateway": "fd00::1"}],
        "routes": [{"dst": "0.0.0.0/0", "gw": "10.1.0.1", "priority": 10}, {"dst": "::/0"}],
        "dns": {"nameservers": ["10.1.0.1"], "search": ["example.org"]}
    })"));
}

TEST(Result, RoundTripsIn110) {
    auto r = sample();
    auto j = to_json(r, kV110);
    EXPECT_EQ(j["cniVersion"], "1.1.0");
    EXPECT_EQ(j["interfaces"][0]["mtu"], 1500);
    EXPECT_EQ(parse_result(j), r);
}

TEST(Result, Version100DropsInterfaceMtuAndHasNoIpVersion) {
    auto j = to_json(sample(), kV100);
    EXPECT_FALSE(j["interfaces"][0].contains("mtu"));
    EXPECT_FALSE(j["ips"][0].contains("version"));
    EXPECT_EQ(j["routes"][0]["priority"], 10);
}

TEST(Result, Version04xAnd03xAddIpVersion) {
    for (auto v : {Version{0, 3, 0}, Version{0, 3, 1}, kV040}) {
        auto j = to_json(sample(), v);
        EXPECT_EQ(j["ips"][0]["version"], "4");
        EXPECT_EQ(j["ips"][1]["version"], "6");
        EXPECT_EQ(j["cniVersion"], v.to_string());
    }
}

TEST(Result, Version020KeepsFirstAddressPerFamily) {
    auto j = to_json(sample(), Version{0, 2, 0});
    EXPECT_EQ(j["ip4"]["ip"], "10.1.0.5/24");
    EXPECT_EQ(j["ip4"]["gateway"], "10.1.0.1");
    EXPECT_EQ(j["ip4"]["routes"].size(), 1u);
    EXPECT_EQ(j["ip6"]["ip"], "fd00::5/64");
    EXPECT_FALSE(j.contains("interfaces"));
    auto back = parse_result(j);
    EXPECT_EQ(back.ips.size(), 2u);
    EXPECT_EQ(back.routes.size(), 2u);
}

TEST(Result, Version020WithoutAddressesIsAVersionError) {
    try {
        to_json(Result{}, Version{0, 2, 0});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::IncompatibleVersion);
    }
}

TEST(Result, MalformedFieldsAreDecodeErrors) {
    for (const char* text :
         {R"({"ips": [{"address": "10.0.0.1"}]})", R"({"ips": {}})",
          R"({"interfaces": [{"mac": "x"}]})", R"({"routes": [{"dst": "10/8"}]})",
          R"({"ips": [{"address": "10.0.0.1/24", "gateway": "nope"}]})", R"([])"}) {
        try {
            parse_result(json::parse(text));
            ADD_FAILURE() << "accepted " << text;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Code::Decode) << text;
        }
    }
}

}  // namespace
}  // namespace cni
