#include <gtest/gtest.h>

#include "runtime/libcni/error.hpp"
#include "runtime/libcni/runtime.hpp"

namespace {

using nlohmann::json;

libcni::NetworkList list_of(const std::string& plugins, const std::string& version = "1.0.0") {
    return libcni::parse_network_list(
        R"({"cniVersion":")" + version + R"(","name":"net","plugins":)" + plugins + "}", "mem");
}

libcni::RuntimeConf runtime_conf(json caps = json::object()) {
    return {"c1", "/run/netns/x", "eth0", {{"IgnoreUnknown", "1"}}, std::move(caps)};
}

TEST(LibcniBuildConfig, ForcesNameAndVersionAndKeepsOtherKeys) {
    auto list = list_of(R"([{"type":"a","name":"mine","cniVersion":"0.3.1","x":{"y":1}}])");
    auto conf = libcni::build_one_config(list, list.plugins[0], nullptr, runtime_conf());
    EXPECT_EQ(conf, json::parse(R"({"type":"a","name":"net","cniVersion":"1.0.0","x":{"y":1}})"));
}

TEST(LibcniBuildConfig, InjectsPrevResultOnlyWhenGiven) {
    auto list = list_of(R"([{"type":"a"}])");
    json prev = {{"cniVersion", "1.0.0"}, {"ips", json::array()}};
    EXPECT_FALSE(libcni::build_one_config(list, list.plugins[0], nullptr, runtime_conf())
                     .contains("prevResult"));
    EXPECT_EQ(libcni::build_one_config(list, list.plugins[0], prev, runtime_conf())["prevResult"],
              prev);
}

TEST(LibcniBuildConfig, RuntimeConfigIsCapabilitiesIntersectedWithArgs) {
    auto list = list_of(R"([
        {"type":"portmap","capabilities":{"portMappings":true,"bandwidth":false,"aliases":true}},
        {"type":"plain"},
        {"type":"own","runtimeConfig":{"keep":1}},
        {"type":"own2","capabilities":{"mac":true},"runtimeConfig":{"replaced":1}}])");
    json caps = {{"portMappings", json::array({{{"hostPort", 8080}}})},
                 {"bandwidth", {{"ingressRate", 1}}},
                 {"mac", "02:00:00:00:00:01"},
                 {"custom", 1}};
    auto rt = runtime_conf(caps);
    auto conf0 = libcni::build_one_config(list, list.plugins[0], nullptr, rt);
    EXPECT_EQ(conf0["runtimeConfig"], json({{"portMappings", caps["portMappings"]}}));
    EXPECT_FALSE(
        libcni::build_one_config(list, list.plugins[1], nullptr, rt).contains("runtimeConfig"));
    // Nothing to inject: the file's own runtimeConfig is left alone (libcni InjectConf).
    EXPECT_EQ(libcni::build_one_config(list, list.plugins[2], nullptr, rt)["runtimeConfig"],
              json({{"keep", 1}}));
    // Something to inject: it replaces the file's runtimeConfig as a whole.
    EXPECT_EQ(libcni::build_one_config(list, list.plugins[3], nullptr, rt)["runtimeConfig"],
              json({{"mac", "02:00:00:00:00:01"}}));
    // capabilities stay in the bytes, as libcni leaves them.
    EXPECT_TRUE(conf0.contains("capabilities"));
}

TEST(LibcniBuildConfig, GcConfigCarriesBothAttachmentKeys) {
    auto list = list_of(R"([{"type":"a","capabilities":{"ips":true}}])", "1.1.0");
    std::vector<libcni::GcAttachment> valid = {{"c1", "eth0"}, {"c2", "eth1"}};
    auto conf = libcni::build_gc_config(list, list.plugins[0], valid);
    json expected = json::parse(R"([{"containerID":"c1","ifname":"eth0"},
                                    {"containerID":"c2","ifname":"eth1"}])");
    EXPECT_EQ(conf["cni.dev/valid-attachments"], expected);
    EXPECT_EQ(conf["cni.dev/attachments"], expected);
    EXPECT_EQ(conf["name"], "net");
    EXPECT_EQ(conf["cniVersion"], "1.1.0");
    EXPECT_FALSE(conf.contains("runtimeConfig"));
    // cnitool's gc passes no list: no key at all.
    EXPECT_FALSE(libcni::build_gc_config(list, list.plugins[0], std::nullopt)
                     .contains("cni.dev/valid-attachments"));
    EXPECT_EQ(libcni::build_status_config(list, list.plugins[0]),
              json::parse(R"({"type":"a","capabilities":{"ips":true},"name":"net",
                              "cniVersion":"1.1.0"})"));
}

TEST(LibcniBuildConfig, CniArgsRoundTrip) {
    libcni::CniArgs args = {{"IgnoreUnknown", "1"}, {"K8S_POD_NAME", "web"}, {"IP", "10.0.0.2"}};
    EXPECT_EQ(libcni::format_cni_args(args), "IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.0.0.2");
    EXPECT_EQ(libcni::parse_cni_args("IgnoreUnknown=1;K8S_POD_NAME=web;;IP=10.0.0.2"), args);
    EXPECT_EQ(libcni::parse_cni_args("A="), (libcni::CniArgs{{"A", ""}}));
    EXPECT_THROW(libcni::parse_cni_args("novalue"), libcni::ArgumentError);
    EXPECT_THROW(libcni::parse_cni_args("=x"), libcni::ArgumentError);
}

}  // namespace
