#include "plugins/cni/skel.hpp"

#include <functional>
#include <gtest/gtest.h>
#include <map>
#include <optional>

#include "plugins/cni/error.hpp"

namespace cni {
namespace {

struct Call {
    int status = -1;
    std::string out;
    std::string err;

    json out_json() const { return json::parse(out); }
};

class SkelTest : public ::testing::Test {
protected:
    std::map<std::string, std::string> env_ = {{"CNI_COMMAND", "ADD"},
                                               {"CNI_CONTAINERID", "c1"},
                                               {"CNI_NETNS", "/run/netns/c1"},
                                               {"CNI_IFNAME", "eth0"},
                                               {"CNI_PATH", "/nowhere"}};
    std::string seen_command_;
    Plugin plugin_{"test",
                   [this](const Request& r) {
                       seen_command_ = "ADD";
                       Result res;
                       res.ips.push_back({netlib::IpNet::parse("10.0.0.2/24"), std::nullopt, {}});
                       res.dns = r.conf.dns.value_or(Dns{});
                       return res;
                   },
                   [this](const Request&) { seen_command_ = "DEL"; },
                   [this](const Request&) { seen_command_ = "CHECK"; },
                   nullptr,
                   [](const Request&) { throw Error(Code::NotAvailable, "no addresses left"); }};

    Call run_with(const std::string& stdin_text) {
        return run_reading([&] { return std::optional<std::string>{stdin_text}; });
    }

    Call run_reading(const std::function<std::optional<std::string>()>& read_input,
                     const Invocation& invocation = {}) {
        auto getenv = [this](const char* n) -> std::optional<std::string> {
            auto it = env_.find(n);
            return it == env_.end() ? std::nullopt : std::optional<std::string>{it->second};
        };
        Call c;
        c.status = run(plugin_,
                       Io{getenv, read_input, [&c](std::string_view s) { c.out += s; },
                          [&c](std::string_view s) { c.err += s; }},
                       invocation);
        return c;
    }

    void expect_error(const std::string& stdin_text, Code code) {
        auto c = run_with(stdin_text);
        EXPECT_NE(c.status, 0) << stdin_text;
        ASSERT_FALSE(c.out.empty()) << stdin_text;
        EXPECT_EQ(c.out_json()["code"], static_cast<int>(code)) << c.out;
        EXPECT_TRUE(c.out_json()["msg"].is_string());
        EXPECT_TRUE(seen_command_.empty()) << "handler ran for " << stdin_text;
    }
};

TEST_F(SkelTest, AddPrintsResultInRequestVersion) {
    auto c = run_with(R"({"cniVersion": "0.4.0", "name": "net1", "type": "test"})");
    ASSERT_EQ(c.status, 0) << c.out;
    auto j = c.out_json();
    EXPECT_EQ(j["cniVersion"], "0.4.0");
    EXPECT_EQ(j["ips"][0]["version"], "4");
    EXPECT_EQ(seen_command_, "ADD");
}

TEST_F(SkelTest, VersionIgnoresStdinAndListsAllVersions) {
    env_ = {{"CNI_COMMAND", "VERSION"}};
    auto c = run_with("garbage");
    ASSERT_EQ(c.status, 0);
    auto j = c.out_json();
    EXPECT_EQ(j["cniVersion"], "1.1.0");
    EXPECT_EQ(j["supportedVersions"],
              json::parse(R"(["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"])"));
}

TEST_F(SkelTest, NoCommandPrintsAboutOnStderr) {
    env_.clear();
    auto c = run_with("");
    EXPECT_EQ(c.status, 0);
    EXPECT_TRUE(c.out.empty());
    EXPECT_EQ(c.err, about_text("test", ""));
}

// `bridge --version` by hand: the about text on stdout, so `| head -1` and scripts see it.
TEST_F(SkelTest, VersionFlagPrintsAboutOnStdout) {
    env_.clear();
    auto c = run_reading([] { return std::optional<std::string>{""}; }, {{"--version"}, "1.2.3"});
    EXPECT_EQ(c.status, 0);
    EXPECT_TRUE(c.err.empty()) << c.err;
    EXPECT_EQ(c.out, about_text("test", "1.2.3"));
    EXPECT_TRUE(seen_command_.empty());
}

TEST_F(SkelTest, AboutTextNamesPluginVersionAndProtocolVersions) {
    EXPECT_EQ(about_text("bridge", "0.2.0+3.gabcdef0"),
              "CNI plugin bridge version 0.2.0+3.gabcdef0 (sdnet)\nCNI protocol versions "
              "supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n");
}

// A CNI call ignores the command line, as the reference plugins do.
TEST_F(SkelTest, VersionFlagIsIgnoredDuringACniCall) {
    auto c = run_reading(
        [] { return std::optional<std::string>{R"({"cniVersion": "1.0.0", "name": "n"})"}; },
        {{"--version"}, "1.2.3"});
    EXPECT_EQ(c.status, 0) << c.out;
    EXPECT_EQ(c.out_json()["cniVersion"], "1.0.0");
    EXPECT_EQ(seen_command_, "ADD");
}

TEST_F(SkelTest, ErrorsCarryTheSpecCodes) {
    const std::string ok = R"({"cniVersion": "1.0.0", "name": "net1", "type": "t"})";
    expect_error("{not json", Code::Decode);
    expect_error("[1,2]", Code::Decode);
    // A number past double's range is nlohmann's out_of_range, not its parse_error (found by
    // tests/fuzz/conflist): still a decoding error, not an internal one.
    expect_error(R"({"cniVersion": "1.0.0", "name": "n", "type": "t", "x": 1e999999})",
                 Code::Decode);
    expect_error(R"({"cniVersion": "1.0.0", "type": "t"})", Code::InvalidConfig);
    expect_error(R"({"cniVersion": "1.0.0", "name": "bad name"})", Code::InvalidConfig);
    expect_error(R"({"cniVersion": "9.9.9", "name": "n"})", Code::IncompatibleVersion);
    expect_error(R"({"cniVersion": "one", "name": "n"})", Code::Decode);
    expect_error(R"({"cniVersion": "1.0.0", "name": "n", "ipam": []})", Code::InvalidConfig);
    env_["CNI_COMMAND"] = "FROB";
    expect_error(ok, Code::InvalidEnv);
    env_["CNI_COMMAND"] = "ADD";
    env_.erase("CNI_NETNS");
    expect_error(ok, Code::InvalidEnv);
}

TEST_F(SkelTest, UnreadableStdinIsAnIoError) {
    auto c = run_reading([] { return std::optional<std::string>{}; });
    EXPECT_NE(c.status, 0);
    EXPECT_EQ(c.out_json()["code"], static_cast<int>(Code::Io)) << c.out;
    EXPECT_NE(c.err.find("error reading from stdin"), std::string::npos) << c.err;
    EXPECT_TRUE(seen_command_.empty());
}

TEST_F(SkelTest, CheckNeedsVersion040AndStatusNeeds110) {
    env_["CNI_COMMAND"] = "CHECK";
    expect_error(R"({"cniVersion": "0.3.1", "name": "n"})", Code::IncompatibleVersion);
    env_["CNI_COMMAND"] = "STATUS";
    expect_error(R"({"cniVersion": "1.0.0", "name": "n"})", Code::IncompatibleVersion);
    auto c = run_with(R"({"cniVersion": "1.1.0", "name": "n"})");
    EXPECT_NE(c.status, 0);
    EXPECT_EQ(c.out_json()["code"], 50);
    EXPECT_EQ(c.out_json()["msg"], "no addresses left");
}

TEST_F(SkelTest, MissingGcHandlerIsSuccessWithNoOutput) {
    env_ = {{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/x"}};
    auto c = run_with(R"({"cniVersion": "1.1.0", "name": "n"})");
    EXPECT_EQ(c.status, 0);
    EXPECT_TRUE(c.out.empty());
}

TEST_F(SkelTest, HandlerExceptionsBecomeCode999) {
    plugin_.del = [](const Request&) { throw std::runtime_error("boom"); };
    env_["CNI_COMMAND"] = "DEL";
    auto c = run_with(R"({"cniVersion": "1.0.0", "name": "n"})");
    EXPECT_NE(c.status, 0);
    EXPECT_EQ(c.out_json()["code"], 999);
    EXPECT_EQ(c.out_json()["msg"], "boom");
}

TEST_F(SkelTest, ParsesCommonKeysIncludingPrevResult) {
    plugin_.add = [](const Request& r) {
        EXPECT_EQ(r.conf.name, "net1");
        EXPECT_EQ(r.conf.ipam_type, "host-local");
        EXPECT_TRUE(r.conf.prev_result.has_value());
        EXPECT_EQ(r.conf.prev_result->ips.at(0).address.to_string(), "10.9.0.2/16");
        EXPECT_EQ(r.conf.runtime_config["mac"], "02:00:00:00:00:09");
        return *r.conf.prev_result;
    };
    auto c = run_with(R"({"cniVersion": "1.0.0", "name": "net1", "IPAM": {"type": "host-local"},
        "prevResult": {"cniVersion": "1.0.0", "ips": [{"address": "10.9.0.2/16"}]},
        "runtimeConfig": {"mac": "02:00:00:00:00:09"}})");
    EXPECT_EQ(c.status, 0) << c.out;
}

}  // namespace
}  // namespace cni
