// The static IPAM plugin: its configuration rules (in-process), the executable as a runtime runs
// it, and the same calls against the reference /usr/lib/cni/static.
#include <gtest/gtest.h>
#include <string>

#include "ipam/static_ipam.hpp"
#include "plugins/cni/error.hpp"
#include "tests/ipam/plugin_exec.hpp"

namespace ipam::test {
namespace {

using nlohmann::json;

const char* const kReferenceStatic = "/usr/lib/cni/static";

std::string our_static() {
    return SDNET_BUILD_DIR "/cni/static";
}

json conf(const std::string& version = "1.0.0") {
    return {
        {"cniVersion", version},
        {"name", "net1"},
        {"type", "static"},
        {"ipam",
         {{"type", "static"},
          {"addresses",
           {{{"address", "10.10.0.5/24"}, {"gateway", "10.10.0.1"}},
            {{"address", "fd10::5/64"}, {"gateway", "fd10::1"}}}},
          {"routes", {{{"dst", "0.0.0.0/0"}}, {{"dst", "192.168.0.0/16"}, {"gw", "10.10.0.254"}}}},
          {"dns", {{"nameservers", {"10.10.0.53"}}, {"search", {"example.org"}}}}}}};
}

cni::Result result_of(const json& c, const std::string& cni_args = {}) {
    return static_result(c, cni::Version::parse(c["cniVersion"].get<std::string>()), cni_args);
}

std::vector<std::string> addresses(const cni::Result& r) {
    std::vector<std::string> out;
    for (const auto& ip : r.ips) {
        out.push_back(ip.address.to_string() +
                      (ip.gateway ? " via " + ip.gateway->to_string() : ""));
    }
    return out;
}

// The error a configuration gets: "<code>: <msg>".
std::string error_of(const json& c, const std::string& cni_args = {}) {
    try {
        (void)result_of(c, cni_args);
    } catch (const cni::Error& e) {
        return std::to_string(static_cast<int>(e.code())) + ": " + e.what();
    }
    return "no error";
}

TEST(StaticConfig, AddressesGatewaysRoutesAndDnsAsConfigured) {
    auto r = result_of(conf());
    EXPECT_EQ(addresses(r),
              (std::vector<std::string>{"10.10.0.5/24 via 10.10.0.1", "fd10::5/64 via fd10::1"}));
    ASSERT_EQ(r.routes.size(), 2u);
    EXPECT_EQ(r.routes[1].gw->to_string(), "10.10.0.254");
    EXPECT_EQ(r.dns.nameservers, std::vector<std::string>{"10.10.0.53"});
    EXPECT_EQ(r.dns.search, std::vector<std::string>{"example.org"});
}

TEST(StaticConfig, CniArgsIpIsAppendedAndGatewayGoesToTheAddressHoldingIt) {
    auto r = result_of(conf(), "IP=10.20.0.4/16, fd20::4/64;GATEWAY=10.20.0.1");
    EXPECT_EQ(addresses(r),
              (std::vector<std::string>{"10.10.0.5/24 via 10.10.0.1", "fd10::5/64 via fd10::1",
                                        "10.20.0.4/16 via 10.20.0.1", "fd20::4/64"}));
}

TEST(StaticConfig, ArgsThenRuntimeConfigIpsReplaceTheAddresses) {
    json c = conf();
    c["args"] = {{"cni", {{"ips", {"10.30.0.3/24"}}}}};
    EXPECT_EQ(addresses(result_of(c)), std::vector<std::string>{"10.30.0.3/24"});
    c["runtimeConfig"] = {{"ips", {"10.40.0.3/24", "fd40::3/64"}}};
    EXPECT_EQ(addresses(result_of(c, "IP=10.20.0.4/16")),
              (std::vector<std::string>{"10.40.0.3/24", "fd40::3/64"}));
}

TEST(StaticConfig, EveryBadKeyIsCode7NamingIt) {
    auto with = [](const std::function<void(json&)>& edit) {
        json c = conf();
        edit(c);
        return error_of(c);
    };
    EXPECT_EQ(with([](json& c) { c.erase("ipam"); }).substr(0, 11), "7: \"ipam\" i");
    auto bare = with([](json& c) { c["ipam"]["addresses"][0]["address"] = "10.10.0.5"; });
    EXPECT_NE(bare.find("7: \"ipam.addresses[0].address\" must be an address with a prefix"),
              std::string::npos)
        << bare;
    auto junk = with([](json& c) { c["ipam"]["addresses"][1]["address"] = "fd10::zz/64"; });
    EXPECT_NE(junk.find("7: \"ipam.addresses[1].address\""), std::string::npos) << junk;
    auto gw = with([](json& c) { c["ipam"]["addresses"][0]["gateway"] = "10.10.0"; });
    EXPECT_NE(gw.find("7: \"ipam.addresses[0].gateway\""), std::string::npos) << gw;
    auto family = with([](json& c) { c["ipam"]["addresses"][0]["gateway"] = "fd10::1"; });
    EXPECT_NE(family.find("7: \"ipam.addresses[0].gateway\" fd10::1 is not of the family"),
              std::string::npos)
        << family;
    auto missing = with([](json& c) { c["ipam"]["addresses"][0].erase("address"); });
    EXPECT_NE(missing.find("7: \"ipam.addresses[0].address\" is missing"), std::string::npos)
        << missing;
    auto route = with([](json& c) { c["ipam"]["routes"][0]["dst"] = "nowhere"; });
    EXPECT_NE(route.find("7: \"ipam.routes[0]\" is invalid"), std::string::npos) << route;
    auto twice = with([](json& c) { c["ipam"]["addresses"][1] = {{"address", "10.10.0.5/16"}}; });
    EXPECT_NE(twice.find("7: \"ipam.addresses\": address 10.10.0.5 is given twice"),
              std::string::npos)
        << twice;
    auto rc = with([](json& c) { c["runtimeConfig"] = {{"ips", {"10.40.0.3"}}}; });
    EXPECT_NE(rc.find("7: \"runtimeConfig.ips[0]\" must be an address with a prefix"),
              std::string::npos)
        << rc;
    auto args = with([](json& c) { c["args"] = {{"cni", {{"ips", {42}}}}}; });
    EXPECT_NE(args.find("args.cni.ips[0]"), std::string::npos) << args;
    EXPECT_EQ(args.substr(0, 3), "7: ");
}

TEST(StaticConfig, OldVersionsAllowOneAddressPerFamily) {
    EXPECT_EQ(error_of(conf("0.2.0"), "IP=10.20.0.4/16").substr(0, 19), "7: \"ipam.addresses\"");
    EXPECT_EQ(error_of(conf("0.2.0")), "no error");
}

TEST(StaticConfig, MalformedCniArgsAreCode4) {
    EXPECT_EQ(error_of(conf(), "IP=10.20.0.4").substr(0, 15), "4: CNI_ARGS IP:");
    EXPECT_EQ(error_of(conf(), "GATEWAY=10.20.0").substr(0, 20), "4: CNI_ARGS GATEWAY:");
    EXPECT_EQ(error_of(conf(), "FOO=1").substr(0, 3), "4: ");
    EXPECT_EQ(error_of(conf(), "IgnoreUnknown=1;FOO=1"), "no error");
}

Exec call(const std::string& binary, const std::string& command, const json& c,
          const std::string& args = {}) {
    return run(binary, cni_env(command, "c1", "eth0", args), c.dump());
}

TEST(StaticExec, AddInEveryVersionDelAndGcAreNoOps) {
    for (const char* v : {"0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
        auto add = call(our_static(), "ADD", conf(v));
        ASSERT_EQ(add.status, 0) << v << add.out << add.err;
        EXPECT_EQ(add.json()["cniVersion"], v);
        EXPECT_EQ(add.json()["ips"][0]["address"], "10.10.0.5/24");
    }
    json broken = conf();
    broken["ipam"]["addresses"][0]["address"] = "junk";
    EXPECT_EQ(call(our_static(), "DEL", broken).status, 0);  // DEL needs no valid address
    EXPECT_EQ(call(our_static(), "DEL", conf()).status, 0);
    json gc = conf("1.1.0");
    gc["cni.dev/valid-attachments"] = json::array();
    EXPECT_EQ(call(our_static(), "GC", gc).status, 0);
    EXPECT_EQ(call(our_static(), "STATUS", conf("1.1.0")).status, 0);
    EXPECT_EQ(call(our_static(), "ADD", broken).code(), 7);
}

TEST(StaticExec, CheckComparesTheConfiguredAddressesWithPrevResult) {
    json c = conf();
    EXPECT_EQ(call(our_static(), "CHECK", c).code(), 7);  // no prevResult
    c["prevResult"] = call(our_static(), "ADD", c).json();
    auto ok = call(our_static(), "CHECK", c);
    EXPECT_EQ(ok.status, 0) << ok.out;
    c["prevResult"]["ips"][0]["gateway"] = "10.10.0.2";
    EXPECT_NE(call(our_static(), "CHECK", c).msg().find("gateway of 10.10.0.5/24"),
              std::string::npos);
    c["prevResult"]["ips"].erase(0);
    EXPECT_NE(call(our_static(), "CHECK", c).msg().find("address 10.10.0.5/24 is not"),
              std::string::npos);
}

// The reference prints "dns": {} for no DNS; ours leaves it out. Nothing else may differ.
json comparable(json result) {
    if (result.contains("dns") && result["dns"].empty()) {
        result.erase("dns");
    }
    return result;
}

TEST(StaticCompat, SameResultAsTheReference) {
    ASSERT_TRUE(std::filesystem::exists(kReferenceStatic)) << "containernetworking-plugins";
    json plain = conf("0.4.0");
    plain["ipam"].erase("dns");
    json replaced = conf();
    replaced["args"] = {{"cni", {{"ips", {"10.30.0.3/24"}}}}};
    json runtime = conf();
    runtime["runtimeConfig"] = {{"ips", {"10.40.0.3/24", "fd40::3/64"}}};
    const std::pair<json, std::string> cases[] = {
        {conf(), ""},
        {plain, "IP=10.20.0.4/16,fd20::4/64;GATEWAY=10.20.0.1,fd20::1"},
        {replaced, "IgnoreUnknown=1;K8S_POD_NAME=p"},
        {runtime, ""},
    };
    for (const auto& [c, args] : cases) {
        auto ref = call(kReferenceStatic, "ADD", c, args);
        auto ours = call(our_static(), "ADD", c, args);
        ASSERT_EQ(ref.status, 0) << ref.out;
        ASSERT_EQ(ours.status, 0) << ours.out << ours.err;
        EXPECT_EQ(comparable(ours.json()), comparable(ref.json())) << c.dump() << " " << args;
    }
}

TEST(StaticCompat, BothRefuseABareAddress) {
    json c = conf();
    c["ipam"]["addresses"][0]["address"] = "10.10.0.5";
    EXPECT_NE(call(kReferenceStatic, "ADD", c).status, 0);
    EXPECT_EQ(call(our_static(), "ADD", c).code(), 7);
}

}  // namespace
}  // namespace ipam::test
