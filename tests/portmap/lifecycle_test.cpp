// ADD/DEL/CHECK/GC as a runtime drives them: conflicts, rollback, idempotence, DEL without the
// runtime resending portMappings, garbage collection, and the result passed through.
#include <gtest/gtest.h>

#include "tests/portmap/portmap_harness.hpp"
#include "tests/support/skip.hpp"

namespace sdnet::test {
namespace {

class Lifecycle : public TwoContainerTest {
protected:
    // Every owned element of table inet sdnet_portmap, all maps and sets.
    std::size_t owned_elements() {
        std::size_t n = 0;
        for (const char* set :
             {"hostports4", "anyports4", "hostports6", "anyports6", "guardhost4", "guardany4",
              "guardhost6", "guardany6", "hairpin4", "hairpin6", "masqall4", "masqall6"}) {
            n += elements(set).size();
        }
        return n;
    }
};

TEST_F(Lifecycle, ResultIsThePreviousResultInTheRequestVersion) {
    json out = publish(*c1_, r1_, json::array({mapping(8080, 80)}));
    EXPECT_EQ(out["ips"], r1_["ips"]);
    EXPECT_EQ(out["interfaces"], r1_["interfaces"]);
    EXPECT_EQ(out["cniVersion"], "1.0.0");

    json prev040 = r2_;
    prev040["cniVersion"] = "0.4.0";
    for (auto& ip : prev040["ips"]) {
        ip["version"] = ip["address"].get<std::string>().find(':') == std::string::npos ? "4" : "6";
    }
    auto c =
        portmap("ADD", *c2_, portmap_conf(prev040, json::array({mapping(8081, 80)}), {}, "0.4.0"));
    ASSERT_EQ(c.r.exit_code, 0) << c.r.out;
    EXPECT_EQ(c.out["cniVersion"], "0.4.0");
    EXPECT_EQ(c.out["ips"][0]["version"], "4");
}

TEST_F(Lifecycle, ElementsPerMappingAndFamily) {
    publish(*c1_, r1_, json::array({mapping(8080, 80), mapping(5353, 53, "udp", "127.0.0.1")}));
    EXPECT_EQ(elements("anyports4").size(), 1u);
    EXPECT_EQ(elements("hostports4").size(), 1u);
    EXPECT_EQ(elements("anyports6").size(), 1u);  // 127.0.0.1 is IPv4 only
    EXPECT_EQ(elements("hostports6").size(), 0u);
    EXPECT_EQ(elements("hairpin4"), std::vector<std::string>{"10.88.10.2"});
    EXPECT_EQ(elements("hairpin6"), std::vector<std::string>{"fd88:10::2"});
    auto table = observe("nft list table inet sdnet_portmap");
    EXPECT_NE(table.find("tcp . 8080 comment \"sdnet net=sdnet-bridge cid=ctr-" + c1_->name +
                         " if=eth0\" : 10.88.10.2 . 80"),
              std::string::npos)
        << table;
    EXPECT_NE(table.find("fib daddr type local jump dnat"), std::string::npos);
}

TEST_F(Lifecycle, NoPortMappingsIsANoOp) {
    json out = publish(*c1_, r1_, nullptr);
    EXPECT_EQ(out["ips"], r1_["ips"]);
    EXPECT_EQ(observe("nft list tables").find("sdnet_portmap"), std::string::npos);
}

TEST_F(Lifecycle, SameOwnerReAddIsIdempotent) {
    publish(*c1_, r1_, json::array({mapping(8080, 80)}));
    publish(*c1_, r1_, json::array({mapping(8080, 80)}));
    EXPECT_EQ(elements("anyports4").size(), 1u);
}

TEST_F(Lifecycle, PortHeldByAnotherContainerIsRefused) {
    publish(*c1_, r1_, json::array({mapping(8080, 80)}));
    auto c = portmap("ADD", *c2_, portmap_conf(r2_, json::array({mapping(8080, 80)})));
    EXPECT_NE(c.r.exit_code, 0);
    EXPECT_EQ(c.code(), 999);
    std::string msg = c.out.value("msg", "");
    EXPECT_NE(msg.find("tcp 0.0.0.0:8080"), std::string::npos) << msg;
    EXPECT_NE(msg.find("sdnet-bridge/ctr-" + c1_->name + "/eth0"), std::string::npos) << msg;
    EXPECT_EQ(elements("hairpin4"), std::vector<std::string>{"10.88.10.2"}) << "c2 left state";
    // Another protocol on the same port is a different key.
    publish(*c2_, r2_, json::array({mapping(8080, 80, "udp")}));
}

// Podman hands a container's mappings to the portmap of every network it joins: the second
// network's ADD must succeed, the port keeps leading where it did, and detaching the second
// network leaves it published.
TEST_F(Lifecycle, SameContainerOnASecondNetworkKeepsItsPortOnTheFirst) {
    publish(*c1_, r1_, json::array({mapping(8080, 80)}));
    json second = portmap_conf(r1_, json::array({mapping(8080, 80), mapping(9090, 90)}),
                               {{"name", "second-net"}});
    auto add = portmap("ADD", *c1_, second);
    ASSERT_EQ(add.r.exit_code, 0) << add.r.out;
    auto map = observe("nft list map inet sdnet_portmap anyports4");
    EXPECT_NE(map.find("tcp . 8080 comment \"sdnet net=sdnet-bridge "), std::string::npos) << map;
    EXPECT_NE(map.find("tcp . 9090 comment \"sdnet net=second-net "), std::string::npos) << map;
    EXPECT_EQ(portmap("CHECK", *c1_, second).r.exit_code, 0);

    EXPECT_EQ(portmap("DEL", *c1_, second).r.exit_code, 0);
    EXPECT_EQ(elements("anyports4"), std::vector<std::string>{R"({"concat":["tcp",8080]})"});
    // Another container is still refused.
    EXPECT_EQ(portmap("ADD", *c2_, portmap_conf(r2_, json::array({mapping(8080, 80)}))).code(),
              999);
}

TEST_F(Lifecycle, WildcardAndSpecificAddressConflict) {
    publish(*c1_, r1_, json::array({mapping(8080, 80)}));
    auto specific = portmap(
        "ADD", *c2_, portmap_conf(r2_, json::array({mapping(8080, 80, "tcp", "10.88.10.1")})));
    EXPECT_EQ(specific.code(), 999) << specific.r.out;
    EXPECT_NE(specific.out.value("msg", "").find("every local address"), std::string::npos)
        << specific.r.out;

    publish(*c1_, r1_, json::array({mapping(9090, 80, "tcp", "10.88.10.1")}));
    auto wildcard = portmap("ADD", *c2_, portmap_conf(r2_, json::array({mapping(9090, 80)})));
    EXPECT_EQ(wildcard.code(), 999) << wildcard.r.out;
    EXPECT_NE(wildcard.out.value("msg", "").find("on 10.88.10.1"), std::string::npos)
        << wildcard.r.out;
    // Another port, or a specific address no wildcard covers, competes with nothing.
    publish(*c2_, r2_, json::array({mapping(9090, 80, "tcp", "192.0.2.1")}));
}

TEST_F(Lifecycle, FailedAddLeavesNothingOfItsFirstMapping) {
    publish(*c1_, r1_, json::array({mapping(9090, 80)}));
    auto before = owned_elements();
    auto c = portmap("ADD", *c2_,
                     portmap_conf(r2_, json::array({mapping(8080, 80), mapping(9090, 81)})));
    EXPECT_EQ(c.code(), 999) << c.r.out;
    EXPECT_EQ(owned_elements(), before);
    auto table = observe("nft list table inet sdnet_portmap");
    EXPECT_EQ(table.find("8080"), std::string::npos) << table;
}

TEST_F(Lifecycle, DelWithoutPortMappingsOrPrevResultRemovesEverything) {
    publish(*c1_, r1_, json::array({mapping(8080, 80), mapping(5353, 53, "udp", "127.0.0.1")}));
    publish(*c2_, r2_, json::array({mapping(8081, 80)}));
    auto del = portmap("DEL", *c1_, portmap_conf(nullptr, nullptr));
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    EXPECT_EQ(elements("hostports4").size(), 0u);
    EXPECT_EQ(elements("anyports4").size(), 1u) << "c2's mapping must stay";
    EXPECT_EQ(elements("hairpin4"), std::vector<std::string>{"10.88.10.3"});
    auto again = portmap("DEL", *c1_, portmap_conf(nullptr, nullptr));
    EXPECT_EQ(again.r.exit_code, 0) << again.r.out;
}

TEST_F(Lifecycle, DelByKeyTwiceAndOnAnEmptyMachine) {
    auto fresh = portmap("DEL", *c1_, portmap_conf(r1_, json::array({mapping(8080, 80)})));
    EXPECT_EQ(fresh.r.exit_code, 0) << fresh.r.out;  // no table at all
    publish(*c1_, r1_, json::array({mapping(8080, 80)}));
    for (int i = 0; i < 2; ++i) {
        auto del = portmap("DEL", *c1_, portmap_conf(r1_, json::array({mapping(8080, 80)})));
        EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
    }
    EXPECT_EQ(owned_elements(), 0u);
}

TEST_F(Lifecycle, DelOfAnotherOwnerLeavesTheElement) {
    publish(*c1_, r1_, json::array({mapping(8080, 80)}));
    auto del = portmap("DEL", *c2_, portmap_conf(r2_, json::array({mapping(8080, 80)})));
    EXPECT_EQ(del.r.exit_code, 0);
    EXPECT_EQ(elements("anyports4").size(), 1u);
}

TEST_F(Lifecycle, CheckPassesThenFailsWhenSomethingIsMissing) {
    json conf = portmap_conf(r1_, json::array({mapping(8080, 80)}));
    publish(*c1_, r1_, json::array({mapping(8080, 80)}));
    auto ok = portmap("CHECK", *c1_, conf);
    EXPECT_EQ(ok.r.exit_code, 0) << ok.r.out;

    auto other = portmap("CHECK", *c1_,
                         portmap_conf(r1_, json::array({mapping(8080, 80), mapping(8090, 90)})));
    EXPECT_EQ(other.code(), 999);
    EXPECT_NE(other.out.value("msg", "").find("tcp 0.0.0.0:8090 is not published"),
              std::string::npos)
        << other.r.out;

    auto wrong = portmap("CHECK", *c1_, portmap_conf(r1_, json::array({mapping(8080, 81)})));
    EXPECT_EQ(wrong.code(), 999);
    EXPECT_NE(wrong.out.value("msg", "").find("expected 10.88.10.2:81"), std::string::npos)
        << wrong.r.out;

    ASSERT_EQ(portmap("DEL", *c1_, conf).r.exit_code, 0);
    auto gone = portmap("CHECK", *c1_, conf);
    EXPECT_EQ(gone.code(), 999) << gone.r.out;

    auto no_prev = portmap("CHECK", *c1_, portmap_conf(nullptr, json::array({mapping(8080, 80)})));
    EXPECT_EQ(no_prev.code(), 7);
}

TEST_F(Lifecycle, GcRemovesAttachmentsNotListed) {
    publish(*c1_, r1_, json::array({mapping(8080, 80)}));
    publish(*c2_, r2_, json::array({mapping(8081, 80)}));
    json gc = portmap_conf(nullptr, nullptr, {}, "1.1.0");
    gc["cni.dev/valid-attachments"] =
        json::array({json{{"containerID", "ctr-" + c1_->name}, {"ifname", "eth0"}}});
    auto c =
        run_env({{"CNI_COMMAND", "GC"}, {"CNI_PATH", plugin_path("")}}, gc, plugin_path("portmap"));
    EXPECT_EQ(c.r.exit_code, 0) << c.r.out << c.r.err;
    EXPECT_EQ(elements("anyports4").size(), 1u);
    EXPECT_EQ(elements("hairpin4"), std::vector<std::string>{"10.88.10.2"});

    // Without a list, GC knows nothing stale and removes nothing.
    gc.erase("cni.dev/valid-attachments");
    c = run_env({{"CNI_COMMAND", "GC"}, {"CNI_PATH", plugin_path("")}}, gc, plugin_path("portmap"));
    EXPECT_EQ(c.r.exit_code, 0);
    EXPECT_EQ(elements("anyports4").size(), 1u);
}

TEST_F(Lifecycle, StatusIsOk) {
    auto c = run_env({{"CNI_COMMAND", "STATUS"}, {"CNI_PATH", plugin_path("")}},
                     portmap_conf(nullptr, nullptr, {}, "1.1.0"), plugin_path("portmap"));
    EXPECT_EQ(c.r.exit_code, 0) << c.r.out;
}

TEST_F(Lifecycle, MasqAllUsesTheMasqAllSet) {
    publish(*c1_, r1_, json::array({mapping(8080, 80)}), {{"masqAll", true}});
    EXPECT_EQ(elements("masqall4"), std::vector<std::string>{"10.88.10.2"});
    EXPECT_TRUE(elements("hairpin4").empty());
    auto del = portmap("DEL", *c1_,
                       portmap_conf(r1_, json::array({mapping(8080, 80)}), {{"masqAll", true}}));
    EXPECT_EQ(del.r.exit_code, 0);
    EXPECT_EQ(owned_elements(), 0u);
}

// Every kernel: where the kernel lacks nftables, ADD names it and the key (code 2) and DEL
// works; where it has it, both work. The bridge asks for no nftables of its own.
using PortmapAnyKernel = PortmapHarness;

TEST_F(PortmapAnyKernel, AddNamesMissingNftablesAndDelAlwaysWorks) {
    auto c1 = make_netns("c1");
    json bridge = bridge_conf();
    bridge["ipMasq"] = false;
    json prev = add(c1, bridge);
    bool lacks = missing_kernel_feature(KernelFeature::Nftables).has_value();
    json conf = portmap_conf(prev, json::array({mapping(8080, 80)}));
    auto r = portmap("ADD", c1, conf);
    if (lacks) {
        EXPECT_EQ(r.code(), 2) << r.r.out;
        std::string msg = r.out.value("msg", "");
        EXPECT_NE(msg.find("nftables"), std::string::npos) << r.r.out;
        EXPECT_NE(msg.find("portMappings"), std::string::npos) << r.r.out;
    } else {
        EXPECT_EQ(r.r.exit_code, 0) << r.r.out;
    }
    auto del = portmap("DEL", c1, conf);
    EXPECT_EQ(del.r.exit_code, 0) << del.r.out;
}

}  // namespace
}  // namespace sdnet::test
