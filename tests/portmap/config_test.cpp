// Every bad key, and the keys that only make sense for iptables, with the error a user gets.
#include <gtest/gtest.h>

#include "netlib/nft_portmap.hpp"
#include "tests/portmap/portmap_harness.hpp"

namespace sdnet::test {
namespace {

struct BadCase {
    const char* what;
    json extra;     // merged into the config
    json mappings;  // runtimeConfig.portMappings
    int code;
    std::string msg;  // a substring of the message
};

class Config : public PortmapTest {};

TEST_F(Config, BadKeysAreRefusedWithTheirCode) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    json ok = json::array({mapping(8080, 80)});
    const BadCase cases[] = {
        {"backend iptables", {{"backend", "iptables"}}, ok, 7, "nftables-only"},
        {"backend unknown", {{"backend", "ebpf"}}, ok, 7, "\"backend\""},
        {"backend not a string", {{"backend", 1}}, ok, 7, "\"backend\""},
        {"externalSetMarkChain",
         {{"externalSetMarkChain", "KUBE-MARK-MASQ"}},
         ok,
         7,
         "externalSetMarkChain"},
        {"markMasqBit too big", {{"markMasqBit", 32}}, ok, 7, "markMasqBit"},
        {"markMasqBit negative", {{"markMasqBit", -1}}, ok, 7, "markMasqBit"},
        {"markMasqBit not a number", {{"markMasqBit", "13"}}, ok, 7, "markMasqBit"},
        {"snat not a bool", {{"snat", "yes"}}, ok, 7, "snat"},
        {"masqAll not a bool", {{"masqAll", 1}}, ok, 7, "masqAll"},
        {"conditions iptables syntax",
         {{"conditionsV4", {"-s", "10.0.0.0/8"}}},
         ok,
         7,
         "iptables syntax"},
        {"conditions negated iptables",
         {{"conditionsV4", {"!", "-s", "10.0.0.0/8"}}},
         ok,
         7,
         "iptables syntax"},
        {"conditions unsupported nft",
         {{"conditionsV4", {"tcp flags syn"}}},
         ok,
         7,
         "unsupported nftables condition"},
        {"conditions wrong family",
         {{"conditionsV4", {"ip6 saddr fd00::/8"}}},
         ok,
         7,
         "other address family"},
        {"conditions bad address",
         {{"conditionsV6", {"ip6 daddr nowhere"}}},
         ok,
         7,
         "conditionsV6"},
        {"conditions truncated", {{"conditionsV4", {"ip saddr"}}}, ok, 7, "ends where"},
        {"conditions not strings", {{"conditionsV4", {1, 2}}}, ok, 7, "conditionsV4"},
        {"conditions not a list", {{"conditionsV4", "ip saddr 10.0.0.0/8"}}, ok, 7, "conditionsV4"},
        {"portMappings not a list", {}, {{"hostPort", 80}}, 7, "portMappings"},
        {"mapping not an object", {}, json::array({8080}), 7, "portMappings[0]"},
        {"protocol icmp", {}, json::array({mapping(8080, 80, "icmp")}), 7, "\"protocol\""},
        {"hostPort zero", {}, json::array({mapping(0, 80)}), 7, "hostPort"},
        {"hostPort too big", {}, json::array({mapping(70000, 80)}), 7, "hostPort"},
        {"hostPort missing", {}, json::array({json{{"containerPort", 80}}}), 7, "hostPort"},
        {"hostPort a string",
         {},
         json::array({json{{"hostPort", "80"}, {"containerPort", 80}}}),
         7,
         "hostPort"},
        {"containerPort zero", {}, json::array({mapping(8080, 0)}), 7, "containerPort"},
        {"hostIP invalid", {}, json::array({mapping(8080, 80, "tcp", "10.0.0.300")}), 7, "hostIP"},
        {"hostPortEnd below hostPort",
         {},
         json::array({json{{"hostPort", 9000}, {"hostPortEnd", 8999}, {"containerPort", 80}}}),
         7,
         "hostPortEnd"},
        {"range too long",
         {},
         json::array({json{{"hostPort", 1000}, {"hostPortEnd", 9000}, {"containerPort", 1000}}}),
         7,
         netlib::portmap_range_too_long(8001)},
        {"one host port, two targets",
         {},
         json::array({mapping(8080, 80), mapping(8080, 81)}),
         7,
         "published twice"},
        {"range past 65535",
         {},
         json::array({json{{"hostPort", 1000}, {"hostPortEnd", 1010}, {"containerPort", 65530}}}),
         7,
         "65535"},
    };
    for (const auto& bad : cases) {
        auto c = portmap("ADD", c1, portmap_conf(prev, bad.mappings, bad.extra));
        EXPECT_NE(c.r.exit_code, 0) << bad.what;
        EXPECT_EQ(c.code(), bad.code) << bad.what << ": " << c.r.out;
        EXPECT_NE(c.out.value("msg", "").find(bad.msg), std::string::npos)
            << bad.what << ": " << c.r.out;
    }
    EXPECT_EQ(observe("nft list tables").find("sdnet_portmap"), std::string::npos);
}

TEST_F(Config, AddWithoutPrevResultIsAChainingError) {
    auto c1 = make_netns("c1");
    auto c = portmap("ADD", c1, portmap_conf(nullptr, json::array({mapping(8080, 80)})));
    EXPECT_EQ(c.code(), 7) << c.r.out;
    EXPECT_NE(c.out.value("msg", "").find("chained"), std::string::npos) << c.r.out;
}

TEST_F(Config, AcceptedForCompatibility) {
    auto c1 = make_netns("c1");
    json prev = attach(c1);
    json conf = portmap_conf(prev, json::array({mapping(8080, 80, "TCP")}),
                             {{"backend", "nftables"}, {"markMasqBit", 14}, {"SNAT", true}});
    conf["capabilities"] = {{"portMappings", true}};
    auto c = portmap("ADD", c1, conf);
    EXPECT_EQ(c.r.exit_code, 0) << c.r.out;
    // hostIP "0.0.0.0" means every local address, like no hostIP.
    auto d =
        portmap("ADD", c1, portmap_conf(prev, json::array({mapping(8081, 80, "tcp", "0.0.0.0")})));
    EXPECT_EQ(d.r.exit_code, 0) << d.r.out;
    EXPECT_EQ(elements("anyports4").size(), 2u);
}

}  // namespace
}  // namespace sdnet::test
