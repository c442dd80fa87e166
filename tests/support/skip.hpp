#pragma once

#include <gtest/gtest.h>
#include <optional>
#include <string>

// Skips that cannot hide a failure.
//
// A test may skip only because the kernel it runs on lacks a feature its subject needs, and in CI
// (SDNET_NO_SKIP=1, set by scripts/test and inside scripts/uml-run) only when that gap is on the
// list of known gaps of these machines (kKnownGaps in skip.cpp). Every other skip (a missing
// tool, a missing reference plugin, a gap not on the list) makes the test binary exit non-zero,
// which ctest reports as a failure: tests/support/main.cpp installs the listener that checks.
namespace sdnet::test {

enum class KernelFeature {
    Dummy,                // link kind "dummy"
    Vlan,                 // link kind "vlan" (8021q)
    Ipvlan,               // link kind "ipvlan"
    BridgeVlanFiltering,  // IFLA_BR_VLAN_FILTERING on a bridge
    Nftables,             // NETLINK_NETFILTER (nfnetlink, nf_tables)
    ConntrackProcfs,      // /proc/net/nf_conntrack (CONFIG_NF_CONNTRACK_PROCFS)
    Rps,                  // receive packet steering (CONFIG_RPS): receive queues of a link
};

const char* to_string(KernelFeature f);

// Probes the running kernel, in the caller's network namespace, which must be a private one (a
// NetnsTest after SetUp): nullopt when `f` is there, else why the test skips. A gap that is not
// known for this machine adds a test failure first when SDNET_NO_SKIP=1.
std::optional<std::string> missing_kernel_feature(KernelFeature f);

// True inside scripts/uml-run's user-mode Linux guest.
bool in_user_mode_linux();

// Called by the listener: the current test's skip was for a listed kernel gap.
bool skip_was_allowed();
void reset_allowed_skip();

}  // namespace sdnet::test

// In a test body or SetUp: skip unless the kernel has `feature` (sdnet::test::KernelFeature).
#define SDNET_REQUIRE_KERNEL(feature)                                               \
    do {                                                                            \
        if (auto sdnet_missing_ = ::sdnet::test::missing_kernel_feature(feature)) { \
            GTEST_SKIP() << *sdnet_missing_;                                        \
        }                                                                           \
    } while (0)
