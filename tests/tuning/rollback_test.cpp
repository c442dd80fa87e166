// A failed ADD leaves the interface and the sysctls as they were, and no saved state.
#include <gtest/gtest.h>

#include "tests/tuning/tuning_harness.hpp"

namespace sdnet::test {
namespace {

using Rollback = TuningTest;

TEST_F(Rollback, ABadSysctlUndoesTheLinkChanges) {
    LinkState before = link(c1());
    json keys = {{"mac", "0a:58:0a:58:00:05"},
                 {"mtu", 1400},
                 {"promisc", true},
                 {"allmulti", true},
                 {"txQLen", 77},
                 {"sysctl", {{"net.ipv4.conf.IFNAME.no_such_knob", "1"}}}};
    auto r = tuning("ADD", c1(), conf(c1(), keys));
    EXPECT_NE(r.r.exit_code, 0);
    EXPECT_EQ(r.code(), 7) << r.r.out;
    EXPECT_NE(r.out.value("msg", "").find("does not exist"), std::string::npos) << r.r.out;
    EXPECT_EQ(link(c1()), before);
    EXPECT_FALSE(saved(c1()));
}

TEST_F(Rollback, ABadSysctlValueUndoesTheSysctlsWrittenBeforeIt) {
    // Keys are applied in sorted order: arp_notify is written, then rp_filter fails.
    json keys = {{"mtu", 1400},
                 {"sysctl",
                  {{"net.ipv4.conf.IFNAME.arp_notify", "1"},
                   {"net.ipv4.conf.IFNAME.rp_filter", "not-a-number"}}}};
    std::string arp = sysctl(c1(), "net/ipv4/conf/eth0/arp_notify");
    ASSERT_NE(arp, "1");
    auto r = tuning("ADD", c1(), conf(c1(), keys));
    EXPECT_EQ(r.code(), 7) << r.r.out;
    EXPECT_NE(r.out.value("msg", "").find("invalid value"), std::string::npos) << r.r.out;
    EXPECT_EQ(sysctl(c1(), "net/ipv4/conf/eth0/arp_notify"), arp);
    EXPECT_EQ(link(c1()).mtu, 1500);
    EXPECT_FALSE(saved(c1()));
}

TEST_F(Rollback, ALinkChangeTheKernelRefusesUndoesTheEarlierOnes) {
    // MTU is set before the MAC; a multicast MAC is refused by the kernel.
    LinkState before = link(c1());
    auto r = tuning("ADD", c1(), conf(c1(), {{"mtu", 1400}, {"mac", "01:00:5e:00:00:01"}}));
    EXPECT_NE(r.r.exit_code, 0);
    EXPECT_EQ(r.code(), 999) << r.r.out;
    EXPECT_NE(r.out.value("details", "").find("RTM_"), std::string::npos) << r.r.out;
    EXPECT_EQ(link(c1()), before);
    EXPECT_FALSE(saved(c1()));
}

TEST_F(Rollback, AMissingInterfaceChangesNothing) {
    json c = conf(c1(), {{"mtu", 1400}});
    auto r = run_env({{"CNI_COMMAND", "ADD"},
                      {"CNI_CONTAINERID", "x"},
                      {"CNI_NETNS", c1().path},
                      {"CNI_IFNAME", "eth9"},
                      {"CNI_PATH", plugin_path("")}},
                     c, plugin_path("tuning"));
    EXPECT_EQ(r.code(), 999) << r.r.out;
    EXPECT_NE(r.out.value("msg", "").find("eth9"), std::string::npos) << r.r.out;
}

}  // namespace
}  // namespace sdnet::test
