#include <gtest/gtest.h>
#include <stdexcept>

#include "netlib/sysctl.hpp"

using netlib::sysctl_path;

TEST(SysctlPath, SlashFormIsTakenAsIs) {
    EXPECT_EQ(sysctl_path("net/ipv4/ip_forward"), "net/ipv4/ip_forward");
    EXPECT_EQ(sysctl_path("net/ipv4/conf/eth0.100/arp_notify"),
              "net/ipv4/conf/eth0.100/arp_notify");
}

TEST(SysctlPath, DottedFormBecomesSlashes) {
    EXPECT_EQ(sysctl_path("net.ipv4.ip_forward"), "net/ipv4/ip_forward");
    EXPECT_EQ(sysctl_path("net.ipv4.conf.eth0.arp_notify"), "net/ipv4/conf/eth0/arp_notify");
    EXPECT_EQ(sysctl_path("net.ipv6.conf.all.forwarding"), "net/ipv6/conf/all/forwarding");
    EXPECT_EQ(sysctl_path("net.core.somaxconn"), "net/core/somaxconn");
}

TEST(SysctlPath, DottedInterfaceNamesKeepTheirDots) {
    EXPECT_EQ(sysctl_path("net.ipv4.conf.eth0.100.arp_notify"),
              "net/ipv4/conf/eth0.100/arp_notify");
    EXPECT_EQ(sysctl_path("net.ipv6.neigh.a.b.c.base_reachable_time_ms"),
              "net/ipv6/neigh/a.b.c/base_reachable_time_ms");
}

TEST(SysctlPath, OnlyKeysUnderNetAreAllowed) {
    for (const char* bad :
         {"kernel.hostname", "kernel/hostname", "/net/ipv4/ip_forward", "net/../kernel/hostname",
          "net..ipv4", "net/ipv4//ip_forward", "", "net", "network.foo", "net/./ipv4/ip_forward"}) {
        EXPECT_THROW((void)sysctl_path(bad), std::invalid_argument) << bad;
    }
}
