#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include <sys/stat.h>

#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "tests/support/netns_fixture.hpp"

namespace {

using nlohmann::json;
using sdnet::test::CmdResult;
using sdnet::test::TestNetns;

constexpr const char* kReference = "/usr/lib/cni/loopback";

std::string config(const std::string& version) {
    return json{{"cniVersion", version}, {"name", "lo-net"}, {"type", "loopback"}}.dump();
}

class Loopback : public sdnet::test::NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        ctr_.emplace(make_netns("ctr"));
    }

    std::map<std::string, std::string> env(const std::string& command) const {
        return {{"CNI_COMMAND", command},
                {"CNI_CONTAINERID", "ctr1"},
                {"CNI_NETNS", ctr_->path},
                {"CNI_IFNAME", "eth0"},
                {"CNI_PATH", "/opt/cni/bin"}};
    }

    CmdResult run(const std::map<std::string, std::string>& e, const std::string& stdin_data,
                  const std::string& binary = sdnet::test::plugin_path("loopback")) {
        return sdnet::test::run_plugin(binary, e, stdin_data);
    }

    CmdResult run(const std::string& command, const std::string& version = "1.0.0") {
        return run(env(command), config(version));
    }

    bool lo_up() {
        netlib::RouteSocket sock = netlib::RouteSocket::open_in(ctr_->ns);
        return netlib::find_link(sock, "lo")->up;
    }

    // No state changed anywhere: container lo still down, no links added on either side.
    void expect_untouched() {
        EXPECT_FALSE(lo_up());
        netlib::RouteSocket here = netlib::RouteSocket::open();
        netlib::RouteSocket there = netlib::RouteSocket::open_in(ctr_->ns);
        EXPECT_EQ(netlib::list_links(here).size(), 1U);
        EXPECT_EQ(netlib::list_links(there).size(), 1U);
    }

    // Asserts a CNI error on stdout with `code`; returns its msg.
    std::string expect_cni_error(const CmdResult& r, int code) {
        EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
        json j = json::parse(r.out, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << r.out;
        if (j.is_discarded()) {
            return {};
        }
        EXPECT_EQ(j.value("code", 0), code) << r.out;
        return j.value("msg", "");
    }

    std::optional<TestNetns> ctr_;
};

json parse_ok(const CmdResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return json::parse(r.out, nullptr, false);
}

TEST_F(Loopback, AddSetsLoUpAndReportsIt) {
    ASSERT_FALSE(lo_up());
    json res = parse_ok(run("ADD"));
    EXPECT_TRUE(lo_up());
    json want = json::parse(R"({"cniVersion":"1.0.0",
        "interfaces":[{"name":"lo","mac":"00:00:00:00:00:00","sandbox":")" +
                            ctr_->path + R"("}],
        "ips":[{"interface":0,"address":"127.0.0.1/8"},{"interface":0,"address":"::1/128"}]})");
    res.erase("dns");  // {} or absent: both mean "no DNS"
    EXPECT_EQ(res, want) << res.dump();
    // Only the container was touched: our own lo was already up, nothing else appeared.
    netlib::RouteSocket here = netlib::RouteSocket::open();
    EXPECT_EQ(netlib::list_links(here).size(), 1U);
}

TEST_F(Loopback, IgnoresIfname) {
    auto e = env("ADD");
    e["CNI_IFNAME"] = "net1";
    json res = parse_ok(run(e, config("1.0.0")));
    EXPECT_EQ(res["interfaces"][0]["name"], "lo");
}

TEST_F(Loopback, ResultInEveryVersion) {
    for (const char* v : {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
        SCOPED_TRACE(v);
        json res = parse_ok(run("ADD", v));
        EXPECT_EQ(res["cniVersion"], v);
        ASSERT_EQ(res["ips"].size(), 2U);
        bool has_version = std::string{v} < "1";
        EXPECT_EQ(res["ips"][0].contains("version"), has_version);
        if (has_version) {
            EXPECT_EQ(res["ips"][0]["version"], "4");
            EXPECT_EQ(res["ips"][1]["version"], "6");
        }
        EXPECT_EQ(res["interfaces"][0]["sandbox"], ctr_->path);
    }
}

TEST_F(Loopback, PrevResultPassesThrough) {
    json prev = {{"cniVersion", "1.0.0"},
                 {"interfaces", {{{"name", "eth0"}, {"sandbox", ctr_->path}}}},
                 {"ips", {{{"address", "10.0.0.5/24"}, {"interface", 0}}}}};
    json conf = json::parse(config("1.0.0"));
    conf["prevResult"] = prev;
    json res = parse_ok(run(env("ADD"), conf.dump()));
    EXPECT_TRUE(lo_up());
    res.erase("dns");
    EXPECT_EQ(res, prev) << res.dump();
}

TEST_F(Loopback, CheckPassesAfterAddAndFailsWhenLoIsDown) {
    parse_ok(run("ADD"));
    CmdResult ok = run("CHECK");
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
    EXPECT_EQ(ok.out, "");
    netlib::RouteSocket there = netlib::RouteSocket::open_in(ctr_->ns);
    netlib::set_up(there, 1, false);
    EXPECT_EQ(expect_cni_error(run("CHECK"), 999), "loopback interface is down");
    expect_cni_error(run("CHECK", "0.3.1"), 1);  // CHECK needs 0.4.0+
}

TEST_F(Loopback, DelSetsLoDownAndIsIdempotent) {
    parse_ok(run("ADD"));
    for (int i = 0; i < 2; ++i) {
        CmdResult r = run("DEL");
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        EXPECT_EQ(r.out, "");
        EXPECT_FALSE(lo_up());
    }
}

TEST_F(Loopback, DelSucceedsWhenTheNetnsIsGone) {
    parse_ok(run("ADD"));
    ASSERT_TRUE(netlib::remove_named_netns(ctr_->name));
    CmdResult r = run("DEL");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto e = env("DEL");
    e["CNI_NETNS"] = "";
    r = run(e, config("1.0.0"));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    e.erase("CNI_NETNS");
    r = run(e, config("1.0.0"));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(Loopback, Version) {
    CmdResult r = run({{"CNI_COMMAND", "VERSION"}}, "{}");
    json j = parse_ok(r);
    EXPECT_TRUE(j.contains("cniVersion"));
    auto versions = j["supportedVersions"].get<std::vector<std::string>>();
    for (const char* v : {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
        EXPECT_NE(std::find(versions.begin(), versions.end(), v), versions.end()) << v;
    }
}

TEST_F(Loopback, MissingEnvNamesTheVariables) {
    std::string msg = expect_cni_error(run({{"CNI_COMMAND", "ADD"}}, config("1.0.0")), 4);
    for (const char* var : {"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"}) {
        EXPECT_NE(msg.find(var), std::string::npos) << msg;
    }
    expect_untouched();
}

TEST_F(Loopback, BadInputs) {
    expect_cni_error(run(env("ADD"), "{not json"), 6);
    expect_cni_error(run(env("ADD"), R"({"cniVersion":"1.0.0","type":"loopback"})"), 7);
    expect_cni_error(run(env("ADD"), config("9.9.9")), 1);
    auto e = env("ADD");
    e["CNI_IFNAME"] = "a-name-longer-than-15";
    expect_cni_error(run(e, config("1.0.0")), 4);
    e = env("ADD");
    e["CNI_CONTAINERID"] = "-bad id";
    expect_cni_error(run(e, config("1.0.0")), 4);
    e = env("ADD");
    e["CNI_COMMAND"] = "FROB";
    expect_cni_error(run(e, config("1.0.0")), 4);
    expect_untouched();
}

TEST_F(Loopback, NetnsPathProblemsAreErrors) {
    auto e = env("ADD");
    e["CNI_NETNS"] = "/run/netns/no-such-ns";
    std::string msg = expect_cni_error(run(e, config("1.0.0")), 999);
    EXPECT_NE(msg.find("/run/netns/no-such-ns"), std::string::npos) << msg;
    std::string file = "/run/netns/plain-file";
    std::ofstream{file} << "x";
    e["CNI_NETNS"] = file;
    msg = expect_cni_error(run(e, config("1.0.0")), 999);
    EXPECT_NE(msg.find("not a namespace"), std::string::npos) << msg;
    e["CNI_COMMAND"] = "CHECK";
    expect_cni_error(run(e, config("1.0.0")), 999);
    expect_untouched();
}

// Differential test against the reference plugin (containernetworking/plugins v1.1.1).
class LoopbackVsReference : public Loopback {
protected:
    void SetUp() override {
        struct stat st {};

        if (::stat(kReference, &st) != 0) {
            GTEST_SKIP() << kReference << " is not installed (containernetworking-plugins)";
        }
        Loopback::SetUp();
    }

    json result(const CmdResult& r) {
        json j = parse_ok(r);
        if (j.is_object() && j.contains("dns") && j["dns"].empty()) {
            j.erase("dns");  // v1.1.1 prints "dns":{}, newer libcni omits it
        }
        return j;
    }
};

TEST_F(LoopbackVsReference, SameAddCheckDel) {
    json ref = result(run(env("ADD"), config("1.0.0"), kReference));
    netlib::RouteSocket there = netlib::RouteSocket::open_in(ctr_->ns);
    netlib::set_up(there, 1, false);  // start ours from the same state
    json ours = result(run("ADD"));
    EXPECT_EQ(ours, ref) << "ours " << ours.dump() << "\nreference " << ref.dump();

    CmdResult ref_check = run(env("CHECK"), config("1.0.0"), kReference);
    CmdResult our_check = run("CHECK");
    EXPECT_EQ(our_check.exit_code, ref_check.exit_code);
    EXPECT_EQ(our_check.out, ref_check.out);

    CmdResult ref_del = run(env("DEL"), config("1.0.0"), kReference);
    EXPECT_FALSE(lo_up());
    CmdResult our_del = run("DEL");
    EXPECT_EQ(our_del.exit_code, ref_del.exit_code);
    EXPECT_EQ(our_del.out, ref_del.out);

    // With lo down, both CHECKs fail with the same error.
    json ref_err = json::parse(run(env("CHECK"), config("1.0.0"), kReference).out);
    json our_err = json::parse(run("CHECK").out);
    EXPECT_EQ(our_err, ref_err);
}

TEST_F(LoopbackVsReference, SameErrorCodes) {
    auto missing = std::map<std::string, std::string>{{"CNI_COMMAND", "ADD"}};
    auto gone = env("ADD");
    gone["CNI_NETNS"] = "/run/netns/no-such-ns";
    auto del_gone = env("DEL");
    del_gone["CNI_NETNS"] = "/run/netns/no-such-ns";

    struct Case {
        std::map<std::string, std::string> env;
        std::string stdin_data;
    };

    for (const Case& c : {Case{missing, config("1.0.0")}, Case{env("ADD"), "{not json"},
                          Case{env("ADD"), R"({"cniVersion":"1.0.0"})"},
                          Case{gone, config("1.0.0")}, Case{del_gone, config("1.0.0")}}) {
        CmdResult ref = run(c.env, c.stdin_data, kReference);
        CmdResult ours = run(c.env, c.stdin_data);
        EXPECT_EQ(ours.exit_code, ref.exit_code) << ref.out << " vs " << ours.out;
        json rj = json::parse(ref.out, nullptr, false);
        json oj = json::parse(ours.out, nullptr, false);
        if (rj.is_object()) {
            EXPECT_EQ(oj.value("code", 0), rj.value("code", 0)) << ref.out << " vs " << ours.out;
        }
    }
}

}  // namespace
