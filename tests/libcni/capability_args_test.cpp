#include "runtime/libcni/capability_args.hpp"

#include <gtest/gtest.h>

#include "netlib/nft_portmap.hpp"
#include "runtime/libcni/error.hpp"

namespace {

using nlohmann::json;

TEST(LibcniCapabilityArgs, PortMappings) {
    EXPECT_EQ(libcni::parse_port_mappings("8080:80"),
              json::parse(R"([{"hostPort":8080,"containerPort":80,"protocol":"tcp"}])"));
    EXPECT_EQ(libcni::parse_port_mappings("127.0.0.1:53:5353/UDP"),
              json::parse(R"([{"hostPort":53,"containerPort":5353,"protocol":"udp",
                               "hostIP":"127.0.0.1"}])"));
    EXPECT_EQ(libcni::parse_port_mappings("[::1]:8443:443/sctp"),
              json::parse(R"([{"hostPort":8443,"containerPort":443,"protocol":"sctp",
                               "hostIP":"::1"}])"));
    EXPECT_EQ(libcni::parse_port_mappings("8000-8002:9000-9002"),
              json::parse(R"([{"hostPort":8000,"containerPort":9000,"protocol":"tcp"},
                              {"hostPort":8001,"containerPort":9001,"protocol":"tcp"},
                              {"hostPort":8002,"containerPort":9002,"protocol":"tcp"}])"));
}

TEST(LibcniCapabilityArgs, BadPortMappingsSayWhy) {
    for (const char* bad :
         {"80", "0:80", "8080:65536", "a:80", "8080:80/icmp", "1:2:3:4", "::1:80:80", "[::1:80:80",
          "nothost:80:80", "10-20:30-35", "20-10:1-11", "8080:", ":80"}) {
        try {
            libcni::parse_port_mappings(bad);
            ADD_FAILURE() << bad;
        } catch (const libcni::ArgumentError& e) {
            std::string msg = e.what();
            EXPECT_NE(msg.find(std::string{"\""} + bad + "\""), std::string::npos) << msg;
            EXPECT_NE(msg.find("expected [HOSTIP:]HOSTPORT:CONTAINERPORT"), std::string::npos);
        }
    }
}

// Each port of a range is one mapping: a range the portmap plugin would refuse is refused here,
// with the plugin's own words, before anything is attached.
TEST(LibcniCapabilityArgs, PortRangesStopAtThePortmapLimit) {
    EXPECT_EQ(libcni::parse_port_mappings("1-4096:1-4096/udp").size(),
              std::size_t(netlib::kPortmapMaxRange));
    for (const char* bad : {"1-4097:1-4097", "1-65535:1-65535/udp", "[::1]:1-65535:1-65535"}) {
        try {
            libcni::parse_port_mappings(bad);
            ADD_FAILURE() << bad;
        } catch (const libcni::ArgumentError& e) {
            std::string msg = e.what();
            int ports = std::string_view{bad}.find("4097") != std::string_view::npos ? 4097 : 65535;
            EXPECT_NE(msg.find(netlib::portmap_range_too_long(ports)), std::string::npos) << msg;
        }
    }
}

TEST(LibcniCapabilityArgs, Rates) {
    EXPECT_EQ(libcni::parse_rate("1000000"), 1000000u);
    EXPECT_EQ(libcni::parse_rate("500k"), 500000u);
    EXPECT_EQ(libcni::parse_rate("10M"), 10000000u);
    EXPECT_EQ(libcni::parse_rate("10mbit"), 10000000u);
    EXPECT_EQ(libcni::parse_rate("1G"), 1000000000u);
    EXPECT_EQ(libcni::parse_rate("2Ki"), 2048u);
    EXPECT_EQ(libcni::parse_rate("8bps"), 8u);
    for (const char* bad : {"", "0", "fast", "10x", "-5", "10 M", "99999999999999999999G"}) {
        EXPECT_THROW(libcni::parse_rate(bad), libcni::ArgumentError) << bad;
    }
}

TEST(LibcniCapabilityArgs, Bandwidth) {
    EXPECT_TRUE(libcni::bandwidth_capability({}).is_null());
    EXPECT_EQ(libcni::bandwidth_capability({80000000, std::nullopt, std::nullopt, std::nullopt}),
              json::parse(R"({"ingressRate":80000000,"ingressBurst":10000000})"));
    EXPECT_EQ(libcni::bandwidth_capability({std::nullopt, std::nullopt, 64000, 100000}),
              json::parse(R"({"egressRate":64000,"egressBurst":100000})"));
    EXPECT_EQ(libcni::default_burst(64000), 512u * 1024u);
    EXPECT_THROW(libcni::bandwidth_capability({std::nullopt, 5, std::nullopt, std::nullopt}),
                 libcni::ArgumentError);
}

TEST(LibcniCapabilityArgs, IpsMacAndRanges) {
    EXPECT_EQ(libcni::parse_ip_arg("10.1.2.3"), "10.1.2.3");
    EXPECT_EQ(libcni::parse_ip_arg("10.1.2.3/24"), "10.1.2.3/24");
    EXPECT_EQ(libcni::parse_ip_arg("FD00::1"), "fd00::1");
    EXPECT_THROW(libcni::parse_ip_arg("10.1.2"), libcni::ArgumentError);
    EXPECT_EQ(libcni::parse_mac_arg("02:AA:bb:cc:dd:ee"), "02:aa:bb:cc:dd:ee");
    EXPECT_THROW(libcni::parse_mac_arg("02:aa:bb"), libcni::ArgumentError);
    EXPECT_EQ(libcni::parse_ip_range_arg("10.5.0.0/16"),
              json::parse(R"([{"subnet":"10.5.0.0/16"}])"));
    EXPECT_EQ(libcni::parse_ip_range_arg("10.5.0.0/16,10.5.1.10-10.5.1.20,gw=10.5.0.254"),
              json::parse(R"([{"subnet":"10.5.0.0/16","rangeStart":"10.5.1.10",
                               "rangeEnd":"10.5.1.20","gateway":"10.5.0.254"}])"));
    EXPECT_THROW(libcni::parse_ip_range_arg("nope"), libcni::ArgumentError);
    EXPECT_THROW(libcni::parse_ip_range_arg("10.5.0.0/16,junk"), libcni::ArgumentError);
}

}  // namespace
