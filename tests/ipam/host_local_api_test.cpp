// The in-process API, as the bridge plugin calls it (no fork/exec).
#include <filesystem>
#include <gtest/gtest.h>

#include "ipam/host_local.hpp"
#include "plugins/cni/error.hpp"
#include "tests/support/temp_dir.hpp"

namespace ipam {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class HostLocalApiTest : public ::testing::Test {
protected:
    sdnet::test::TempDir tmp_;
    fs::path net_ = tmp_.path() / "net1";
    json ipam_ = {{"type", "host-local"},
                  {"dataDir", tmp_.str()},
                  {"ranges", json::array({json::array({{{"subnet", "10.9.0.0/29"}}}),
                                          json::array({{{"subnet", "fd09::/125"}}})})}};

    json config(json extra = json::object()) const {
        json c = {{"cniVersion", "1.1.0"}, {"name", "net1"}, {"type", "bridge"}, {"ipam", ipam_}};
        c.update(extra);
        return c;
    }

    static cni::Request request(cni::Command cmd, const std::string& id, const json& config,
                                const std::string& args = {}) {
        cni::Request req;
        req.env.command = cmd;
        req.env.container_id = id;
        req.env.netns = "/run/netns/" + id;
        req.env.ifname = "eth0";
        req.env.args = args;
        req.env.path = "/opt/cni/bin";
        req.config = config;
        req.stdin_data = config.dump();
        req.conf = cni::NetConf::parse(config);
        return req;
    }

    cni::Result add(const std::string& id, json extra = json::object()) {
        return host_local_add(request(cni::Command::Add, id, config(extra)));
    }

    void del(const std::string& id) { host_local_del(request(cni::Command::Del, id, config())); }

    static cni::Code code_of(const std::function<void()>& f) {
        try {
            f();
        } catch (const cni::Error& e) {
            return e.code();
        }
        ADD_FAILURE() << "no error";
        return cni::Code::Internal;
    }
};

TEST_F(HostLocalApiTest, AddReturnsOneAddressPerRangeSet) {
    ipam_["routes"] = json::array({{{"dst", "0.0.0.0/0"}}});
    auto r = add("c1");
    ASSERT_EQ(r.ips.size(), 2u);
    EXPECT_EQ(r.ips[0].address.to_string(), "10.9.0.2/29");
    EXPECT_EQ(r.ips[0].gateway->to_string(), "10.9.0.1");
    EXPECT_EQ(r.ips[1].address.to_string(), "fd09::2/125");
    EXPECT_FALSE(r.ips[0].interface);
    EXPECT_TRUE(r.interfaces.empty());
    ASSERT_EQ(r.routes.size(), 1u);
    EXPECT_EQ(r.routes[0].dst.to_string(), "0.0.0.0/0");
}

TEST_F(HostLocalApiTest, DnsFromResolvConf) {
    sdnet::test::write_file(tmp_.path() / "resolv.conf",
                            "nameserver 10.9.0.53\nsearch example.org\noptions ndots:3\n");
    ipam_["resolvConf"] = tmp_.str() + "/resolv.conf";
    auto r = add("c1");
    EXPECT_EQ(r.dns.nameservers, (std::vector<std::string>{"10.9.0.53"}));
    EXPECT_EQ(r.dns.search, (std::vector<std::string>{"example.org"}));
    EXPECT_EQ(r.dns.options, (std::vector<std::string>{"ndots:3"}));
    ipam_["resolvConf"] = tmp_.str() + "/missing";
    EXPECT_EQ(code_of([&] { add("c2"); }), cni::Code::InvalidConfig);
}

TEST_F(HostLocalApiTest, FailureInALaterSetReleasesTheEarlierOnes) {
    add("holder", {{"runtimeConfig", {{"ips", {"fd09::5"}}}}});
    EXPECT_EQ(code_of([&] {
                  add("c1", {{"runtimeConfig", {{"ips", {"fd09::5"}}}}});
              }),
              cni::Code::Internal);
    EXPECT_FALSE(fs::exists(net_ / "10.9.0.3"));  // taken for set 0, then given back
    auto r = add("c1");
    EXPECT_EQ(r.ips[1].address.to_string(), "fd09::6/125");
}

TEST_F(HostLocalApiTest, DelIsIdempotentAndCreatesNothing) {
    del("unknown");
    EXPECT_FALSE(fs::exists(net_));
    add("c1");
    del("c1");
    del("c1");
    EXPECT_FALSE(fs::exists(net_ / "10.9.0.2"));
    EXPECT_FALSE(fs::exists(net_ / "fd09::2"));
}

TEST_F(HostLocalApiTest, DelWorksWhenTheRangesNoLongerValidate) {
    add("c1");
    ipam_["ranges"] = "broken";
    del("c1");
    EXPECT_FALSE(fs::exists(net_ / "10.9.0.2"));
}

TEST_F(HostLocalApiTest, InvalidAttachmentIsCode4) {
    auto req = request(cni::Command::Add, "c1", config());
    req.env.container_id = "bad/id";
    EXPECT_EQ(code_of([&] { host_local_add(req); }), cni::Code::InvalidEnv);
    req.env.container_id = "c1";
    req.env.ifname = "a/b";
    EXPECT_EQ(code_of([&] { host_local_add(req); }), cni::Code::InvalidEnv);
}

TEST_F(HostLocalApiTest, UnusableDataDirIsAnIoError) {
    sdnet::test::write_file(tmp_.path() / "file", "x");
    ipam_["dataDir"] = tmp_.str() + "/file/sub";
    EXPECT_EQ(code_of([&] { add("c1"); }), cni::Code::Io);
    EXPECT_EQ(code_of([&] { host_local_status(request(cni::Command::Status, "", config())); }),
              cni::Code::NotAvailable);
}

TEST_F(HostLocalApiTest, CheckUsesPrevResult) {
    auto r = add("c1");
    auto check = [&](const std::string& id, json prev) {
        json extra = prev.is_null() ? json::object() : json{{"prevResult", prev}};
        host_local_check(request(cni::Command::Check, id, config(extra)));
    };
    check("c1", nullptr);
    json prev = cni::to_json(r, cni::kV110);
    check("c1", prev);
    prev["ips"][0]["address"] = "10.9.0.6/29";
    EXPECT_EQ(code_of([&] { check("c1", prev); }), cni::Code::Internal);
    EXPECT_EQ(code_of([&] { check("c2", nullptr); }), cni::Code::Internal);
}

TEST_F(HostLocalApiTest, StatusReportsExhaustion) {
    auto status = [&] { host_local_status(request(cni::Command::Status, "", config())); };
    status();  // nothing allocated yet, not even a directory
    for (const char* id : {"a", "b", "c", "d", "e"}) {  // a /29 has five usable addresses
        add(id);
    }
    try {
        status();
        ADD_FAILURE() << "STATUS passed on a full network";
    } catch (const cni::Error& e) {
        EXPECT_EQ(e.code(), cni::Code::NotAvailable);
        EXPECT_NE(std::string{e.what()}.find("10.9.0.1-10.9.0.6"), std::string::npos);
    }
    del("c");
    status();
}

TEST_F(HostLocalApiTest, GcKeepsOnlyValidAttachments) {
    add("keep");
    add("drop");
    sdnet::test::write_file(net_ / "10.9.0.6", "");            // crash debris
    sdnet::test::write_file(net_ / "fd09::7", "legacy-keep");  // legacy id-only, still valid
    sdnet::test::write_file(net_ / "fd09::6", "legacy-drop");  // legacy id-only, gone
    auto gc = [&](json extra) {
        host_local_gc(request(cni::Command::Gc, "", config(std::move(extra))));
    };
    gc(json::object());  // no list: nothing is released
    EXPECT_TRUE(fs::exists(net_ / "10.9.0.3"));
    gc({{"cni.dev/valid-attachments",
         {{{"containerID", "keep"}, {"ifname", "eth0"}},
          {{"containerID", "legacy-keep"}, {"ifname", "eth1"}}}}});
    EXPECT_TRUE(fs::exists(net_ / "10.9.0.2"));
    EXPECT_TRUE(fs::exists(net_ / "fd09::2"));
    EXPECT_TRUE(fs::exists(net_ / "fd09::7"));
    EXPECT_FALSE(fs::exists(net_ / "10.9.0.3"));
    EXPECT_FALSE(fs::exists(net_ / "fd09::3"));
    EXPECT_FALSE(fs::exists(net_ / "10.9.0.6"));
    EXPECT_FALSE(fs::exists(net_ / "fd09::6"));
    EXPECT_TRUE(fs::exists(net_ / "lock"));
    EXPECT_TRUE(fs::exists(net_ / "last_reserved_ip.0"));
    // The index knows: "drop" may ADD again, "keep" may not.
    add("drop");
    EXPECT_EQ(code_of([&] { add("keep"); }), cni::Code::Internal);
    gc({{"cni.dev/attachments", json::array()}});  // the spec-v1.1.0 key; empty: release all
    for (const auto& e : fs::directory_iterator(net_)) {
        std::string name = e.path().filename();
        EXPECT_TRUE(name == "lock" || name == ".sdnet" || name.starts_with("last_reserved_ip."))
            << name;
    }
}

}  // namespace
}  // namespace ipam
