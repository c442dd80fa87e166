// `sdnet conformance` end to end: against our plugins (every applicable check passes), against
// the reference plugins in /usr/lib/cni (exactly the deviations the README lists fail), against
// a fake plugin that ignores every error (the suite catches it), and with bad arguments. sdnet
// makes its own private namespaces; the fixture's keep the kernel probes off the machine too.
#include <gtest/gtest.h>
#include <set>

#include "tests/support/fake_plugins.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/skip.hpp"

namespace {

using nlohmann::json;
using sdnet::test::KernelFeature;
using sdnet::test::missing_kernel_feature;
using sdnet::test::Outcome;
using sdnet::test::TempDir;
using sdnet::test::write_file;

const std::string kOurs = SDNET_BUILD_DIR "/cni";
const std::string kReference = "/usr/lib/cni";

class Conformance : public sdnet::test::NetnsTest {
protected:
    static Outcome conformance(std::vector<std::string> args) {
        args.insert(args.begin(), {SDNET_EXE, "conformance"});
        return sdnet::test::run_process(args);
    }

    // user-mode Linux has no nftables: our portmap and firewall, and the reference's
    // iptables-nft, cannot run there.
    static std::string without_nft(const std::string& plugins) {
        return missing_kernel_feature(KernelFeature::Nftables) ? plugins
                                                               : plugins + ",portmap,firewall";
    }

    // "plugin check" of every check with `result` ("PASS", "FAIL", "N/A").
    static std::set<std::string> with_result(const json& report, const std::string& result) {
        std::set<std::string> out;
        for (const auto& c : report["checks"]) {
            if (c["result"] == result) {
                out.insert(c["plugin"].get<std::string>() + " " + c["check"].get<std::string>());
            }
        }
        return out;
    }
};

TEST_F(Conformance, OurPluginsPassEveryApplicableCheck) {
    auto r = conformance({"--plugins", kOurs, "--json", "--only",
                          without_nft("bridge,macvlan,ipvlan,vlan,tap,host-local,static,"
                                      "loopback,bandwidth,tuning")});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    auto report = json::parse(r.out);
    EXPECT_EQ(report["summary"]["fail"], 0);
    auto passed = with_result(report, "PASS");
    for (const char* check :
         {"bridge rollback of failed add", "bridge parallel adds", "bridge ipam exhaustion",
          "bridge del after netns gone", "bridge gc", "bridge status", "bridge check 0.4.0",
          "macvlan rollback of failed add", "tap gc", "host-local gc", "loopback add 0.3.0",
          "bandwidth del 1.1.0", "tuning check 1.1.0", "static missing network name",
          "macvlan invalid config value", "tuning invalid config value"}) {
        EXPECT_TRUE(passed.contains(check)) << check << "\n" << r.out;
    }
    // A kind the kernel lacks is reported as such, not failed; where it has it, it is checked.
    for (auto [kind, feature] :
         {std::pair{"ipvlan", KernelFeature::Ipvlan}, std::pair{"vlan", KernelFeature::Vlan}}) {
        std::string k = kind;
        if (missing_kernel_feature(feature)) {
            EXPECT_TRUE(with_result(report, "N/A").contains(k + " attachments")) << r.out;
        } else {
            EXPECT_TRUE(passed.contains(k + " parallel adds")) << r.out;
            EXPECT_TRUE(passed.contains(k + " gc")) << r.out;
        }
    }
}

// The reference v1.1.1 plugins (Debian's containernetworking-plugins) fail these checks, and
// only these; README.md "Conformance suite" says why.
TEST_F(Conformance, ReferencePluginsFailExactlyTheKnownChecks) {
    std::string only = "bridge,macvlan,loopback,host-local,static,bandwidth,tuning";
    std::set<std::string> expected = {
        "bridge ipam exhaustion",       "bridge rollback of failed add",
        "macvlan ipam exhaustion",      "macvlan rollback of failed add",
        "loopback add 0.3.0",           "loopback add 0.3.1",
        "loopback add 0.4.0",           "bridge invalid config value",
        "macvlan invalid config value", "host-local invalid config value",
        "static invalid config value",  "bandwidth invalid config value",
        "tuning invalid config value",
    };
    // Where the kernel has them (user-mode Linux), ipvlan and vlan leave eth0 the same way.
    for (auto [kind, feature] :
         {std::pair{"ipvlan", KernelFeature::Ipvlan}, std::pair{"vlan", KernelFeature::Vlan}}) {
        if (!missing_kernel_feature(feature)) {
            only += std::string(",") + kind;
            expected.insert({std::string(kind) + " ipam exhaustion",
                             std::string(kind) + " rollback of failed add",
                             std::string(kind) + " invalid config value"});
        }
    }
    if (!missing_kernel_feature(KernelFeature::Nftables)) {
        only += ",portmap,firewall";
        expected.insert({"portmap check 0.4.0", "portmap check 1.0.0",
                         "portmap invalid config value", "firewall invalid config value"});
    }
    auto r = conformance({"--plugins", kReference, "--json", "--only", only});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    auto report = json::parse(r.out);
    EXPECT_EQ(with_result(report, "FAIL"), expected) << r.out;
    EXPECT_TRUE(with_result(report, "N/A").contains("bridge gc")) << "v1.1.1 claims only 1.0.0";
}

// A plugin that answers every call with success: every error-code check must catch it.
TEST_F(Conformance, APluginThatIgnoresErrorsFails) {
    TempDir dir;
    write_file(dir / "loopback",
               "#!/bin/sh\n"
               "if [ \"$CNI_COMMAND\" = VERSION ]; then\n"
               "  echo '{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"1.0.0\"]}'\n"
               "else\n"
               "  echo '{\"cniVersion\":\"1.0.0\"}'\n"
               "fi\n",
               std::filesystem::perms{0755});
    auto r = conformance({"--plugins", dir.path().string()});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    for (const char* line : {"FAIL loopback unparseable config: succeeded; expected error 6",
                             "FAIL loopback missing CNI_CONTAINERID: succeeded; expected error 4",
                             "FAIL loopback invalid CNI_IFNAME: succeeded; expected error 4",
                             "FAIL loopback unsupported cniVersion: succeeded; expected error 1",
                             "FAIL loopback missing network name: succeeded; expected error 7",
                             "PASS loopback add 1.0.0", "PASS loopback del 1.0.0"}) {
        EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
    }
}

TEST_F(Conformance, BadArgumentsGiveOneLine) {
    auto missing = conformance({"--plugins", "/nonexistent/cni"});
    EXPECT_EQ(missing.status, 1);
    EXPECT_EQ(missing.err_lines(), 1u) << missing.err;
    EXPECT_NE(missing.err.find("/nonexistent/cni"), std::string::npos) << missing.err;

    auto unknown = conformance({"--plugins", kOurs, "--only", "bridge,nosuch"});
    EXPECT_EQ(unknown.status, 2);
    EXPECT_NE(unknown.err.find("nosuch"), std::string::npos) << unknown.err;

    TempDir empty;
    auto none = conformance({"--plugins", empty.path().string()});
    EXPECT_EQ(none.status, 1);
    EXPECT_NE(none.err.find("no known plugin type"), std::string::npos) << none.err;
}

}  // namespace
