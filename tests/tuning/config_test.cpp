// Every bad key is a clear error (code and message naming the key) and changes nothing.
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

#include "tests/tuning/tuning_harness.hpp"

namespace sdnet::test {
namespace {

using Config = TuningTest;

TEST_F(Config, EveryBadKeyIsAClearError) {
    struct Case {
        json keys;
        int code;
        const char* says;
    };

    const Case cases[] = {
        {{{"sysctl", {{"kernel.hostname", "x"}}}}, 7, "/proc/sys/net"},
        {{{"sysctl", {{"net/../kernel/hostname", "x"}}}}, 7, "/proc/sys/net"},
        {{{"sysctl", {{"net.ipv4..ip_forward", "1"}}}}, 7, "sysctl"},
        {{{"sysctl", {{"net.ipv4.conf.IFNAME.arp_notify", 1}}}}, 7, "arp_notify"},
        {{{"sysctl", "net.ipv4.ip_forward=1"}}, 7, "sysctl"},
        {{{"sysctl",
           {{"net.ipv4.conf.eth0.arp_notify", "1"}, {"net/ipv4/conf/IFNAME/arp_notify", "0"}}}},
         7,
         "second time"},
        {{{"mac", "not-a-mac"}}, 7, "MAC"},
        {{{"mac", 5}}, 7, "mac"},
        {{{"mtu", -1}}, 7, "mtu"},
        {{{"mtu", "1400"}}, 7, "mtu"},
        {{{"txQLen", -1}}, 7, "txQLen"},
        {{{"txQLen", 4294967296}}, 7, "txQLen"},
        {{{"promisc", "yes"}}, 7, "promisc"},
        {{{"allmulti", 1}}, 7, "allmulti"},
        {{{"dataDir", 5}}, 7, "dataDir"},
        {{{"runtimeConfig", {{"mac", "zz"}}}}, 7, "runtimeConfig.mac"},
        {{{"args", {{"cni", {{"mtu", true}}}}}}, 7, "mtu"},
    };
    LinkState before = link(c1());
    for (const auto& c : cases) {
        auto r = tuning("ADD", c1(), conf(c1(), c.keys));
        EXPECT_NE(r.r.exit_code, 0) << c.keys.dump();
        EXPECT_EQ(r.code(), c.code) << c.keys.dump() << ": " << r.r.out;
        EXPECT_NE(r.out.value("msg", "").find(c.says), std::string::npos)
            << c.keys.dump() << ": " << r.r.out;
    }
    EXPECT_EQ(link(c1()), before);
    EXPECT_FALSE(saved(c1()));
}

TEST_F(Config, DuplicatedSysctlKeysAreRefused) {
    // JSON with the same key twice cannot be built with nlohmann::json: write the text.
    std::string text = conf(c1(), {{"mtu", 1400}}).dump();
    text.insert(text.size() - 1, R"(,"sysctl":{"net.ipv4.conf.eth0.arp_notify":"1",)"
                                 R"("net.ipv4.conf.eth0.arp_notify":"0"})");
    auto r = run_plugin(plugin_path("tuning"),
                        {{"CNI_COMMAND", "ADD"},
                         {"CNI_CONTAINERID", "ctr-" + c1().name},
                         {"CNI_NETNS", c1().path},
                         {"CNI_IFNAME", "eth0"},
                         {"CNI_PATH", plugin_path("")}},
                        text);
    EXPECT_NE(r.exit_code, 0);
    json out = json::parse(r.out);
    EXPECT_EQ(out["code"], 7) << r.out;
    EXPECT_NE(out.value("msg", "").find("duplicated"), std::string::npos) << r.out;
    EXPECT_EQ(link(c1()).mtu, 1500);
}

TEST_F(Config, MissingPrevResultAndUnknownCniArgs) {
    json c = conf(c1(), {{"mtu", 1400}});
    auto r = tuning("ADD", c1(), c, "", "FOO=bar");
    EXPECT_EQ(r.code(), 4) << r.r.out;
    c.erase("prevResult");
    r = tuning("ADD", c1(), c);
    EXPECT_EQ(r.code(), 7) << r.r.out;
    EXPECT_NE(r.out.value("msg", "").find("prevResult"), std::string::npos) << r.r.out;
    EXPECT_EQ(link(c1()).mtu, 1500);
}

TEST_F(Config, TheAllowlistLimitsSysctls) {
    // /etc/cni/tuning/allowlist.conf, on a tmpfs over /etc/cni in this test's mount namespace.
    // A CNI installation has /etc/cni; an empty one is created where it is missing, as the
    // fixture does for /var/lib/cni, so the test runs everywhere.
    std::filesystem::create_directories("/etc/cni");
    observe("mount -t tmpfs tmpfs /etc/cni && mkdir /etc/cni/tuning");
    std::ofstream("/etc/cni/tuning/allowlist.conf")
        << "^net\\.ipv4\\.conf\\.IFNAME\\.[a-z_]*$\n\n  ^net\\.core\\.somaxconn$  \n";
    auto ok =
        tuning("ADD", c1(), conf(c1(), {{"sysctl", {{"net.ipv4.conf.IFNAME.arp_notify", "1"}}}}));
    EXPECT_EQ(ok.r.exit_code, 0) << ok.r.out;
    auto r = tuning("ADD", c1(), conf(c1(), {{"sysctl", {{"net.ipv4.ip_forward", "1"}}}}));
    EXPECT_EQ(r.code(), 7) << r.r.out;
    EXPECT_NE(r.out.value("msg", "").find("not allowed"), std::string::npos) << r.r.out;
    EXPECT_EQ(sysctl(c1(), "net/ipv4/ip_forward"), "0");
}

}  // namespace
}  // namespace sdnet::test
