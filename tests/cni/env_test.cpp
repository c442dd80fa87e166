#include "plugins/cni/env.hpp"

#include <gtest/gtest.h>
#include <map>

#include "plugins/cni/error.hpp"

namespace cni {
namespace {

Getenv fake_env(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
        auto it = vars.find(name);
        return it == vars.end() ? std::nullopt : std::optional<std::string>{it->second};
    };
}

Code load_error(Command c, std::map<std::string, std::string> vars, std::string* msg = nullptr) {
    try {
        Env::load(c, fake_env(std::move(vars)));
    } catch (const Error& e) {
        if (msg != nullptr) {
            *msg = e.what();
        }
        return e.code();
    }
    return static_cast<Code>(0);
}

const std::map<std::string, std::string> kAddEnv = {{"CNI_CONTAINERID", "ctr-1"},
                                                    {"CNI_NETNS", "/run/netns/x"},
                                                    {"CNI_IFNAME", "eth0"},
                                                    {"CNI_PATH", "/opt/cni/bin"}};

TEST(Env, LoadsAddVariables) {
    auto env = Env::load(Command::Add, fake_env(kAddEnv));
    EXPECT_EQ(env.container_id, "ctr-1");
    EXPECT_EQ(env.netns, "/run/netns/x");
    EXPECT_EQ(env.ifname, "eth0");
    EXPECT_EQ(env.path, "/opt/cni/bin");
}

TEST(Env, NamesEveryMissingVariableAtOnce) {
    std::string msg;
    EXPECT_EQ(load_error(Command::Add, {}, &msg), Code::InvalidEnv);
    EXPECT_EQ(msg,
              "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing");
}

TEST(Env, DelDoesNotNeedNetns) {
    auto vars = kAddEnv;
    vars.erase("CNI_NETNS");
    EXPECT_EQ(Env::load(Command::Del, fake_env(vars)).netns, "");
    std::string msg;
    EXPECT_EQ(load_error(Command::Add, vars, &msg), Code::InvalidEnv);
    EXPECT_EQ(msg, "required env variables [CNI_NETNS] missing");
}

TEST(Env, GcAndStatusNeedOnlyPath) {
    EXPECT_NO_THROW(Env::load(Command::Status, fake_env({{"CNI_PATH", "/x"}})));
    EXPECT_EQ(load_error(Command::Gc, {}), Code::InvalidEnv);
}

TEST(Env, RejectsBadContainerIds) {
    for (const char* id : {"-abc", "a b", "a/b", ".x", "a:b"}) {
        auto vars = kAddEnv;
        vars["CNI_CONTAINERID"] = id;
        EXPECT_EQ(load_error(Command::Add, vars), Code::InvalidEnv) << id;
    }
}

TEST(Env, RejectsBadIfnames) {
    for (const char* name : {"0123456789abcdef", ".", "..", "a/b", "a:b", "a b", "a\tb"}) {
        auto vars = kAddEnv;
        vars["CNI_IFNAME"] = name;
        EXPECT_EQ(load_error(Command::Add, vars), Code::InvalidEnv) << name;
    }
    auto vars = kAddEnv;
    vars["CNI_IFNAME"] = "0123456789abcde";  // exactly 15 bytes
    EXPECT_NO_THROW(Env::load(Command::Add, fake_env(vars)));
}

TEST(CniArgs, ParsesPairsCaseSensitively) {
    auto args = CniArgs::parse("IgnoreUnknown=1;IP=10.0.0.5;K8S_POD_NAME=web");
    EXPECT_EQ(args.get("IP"), "10.0.0.5");
    EXPECT_EQ(args.get("ip"), std::nullopt);
    EXPECT_NO_THROW(args.check_known({"IP"}));
}

TEST(CniArgs, UnknownKeysAreAnErrorUnlessIgnored) {
    auto args = CniArgs::parse("FOO=bar;IP=10.0.0.5");
    try {
        args.check_known({"IP"});
        FAIL() << "accepted FOO";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::InvalidEnv);
        EXPECT_STREQ(e.what(), "CNI_ARGS: unknown args [FOO]");
    }
    EXPECT_THROW(CniArgs::parse("IP"), Error);
    EXPECT_NO_THROW(CniArgs::parse("IgnoreUnknown=true;FOO=bar").check_known({}));
}

}  // namespace
}  // namespace cni
