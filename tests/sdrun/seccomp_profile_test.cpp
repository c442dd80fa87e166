// The seccomp profiles as data: which syscalls the default profile opens for which capability
// (docker's model), and docker's JSON format read into the same shape. What the kernel then
// does with them is in process_test.cpp.
#include <algorithm>
#include <gtest/gtest.h>

#include <linux/capability.h>

#include "runtime/container/error.hpp"
#include "runtime/container/seccomp.hpp"
#include "runtime/container/spec.hpp"

namespace {

using sdrun::Seccomp;
using sdrun::SeccompAction;

// Allowed without a condition on the arguments by some rule of `s`.
bool allows(const Seccomp& s, const std::string& name) {
    return std::any_of(s.syscalls.begin(), s.syscalls.end(), [&](const sdrun::SeccompRule& r) {
        return r.action == SeccompAction::allow && r.args.empty() &&
               std::find(r.names.begin(), r.names.end(), name) != r.names.end();
    });
}

std::vector<int> with(std::vector<int> caps, int cap) {
    caps.push_back(cap);
    return caps;
}

TEST(DefaultSeccomp, DeniesWithEpermWhatItDoesNotList) {
    auto s = sdrun::default_seccomp(sdrun::default_capabilities());
    EXPECT_EQ(s.default_action, SeccompAction::errno_ret);
    EXPECT_EQ(s.default_errno, static_cast<unsigned>(EPERM));
    for (const char* name : {"read", "execve", "wait4", "rt_sigtimedwait", "close_range"}) {
        EXPECT_TRUE(allows(s, name)) << name;
    }
    for (const char* name :
         {"keyctl", "add_key", "userfaultfd", "kexec_load", "open_by_handle_at"}) {
        EXPECT_FALSE(allows(s, name)) << name;
    }
}

TEST(DefaultSeccomp, OpensSyscallsByCapabilityAsDockersDoes) {
    auto base = sdrun::default_capabilities();
    auto s = sdrun::default_seccomp(base);
    EXPECT_TRUE(allows(s, "chroot")) << "docker's defaults hold CAP_SYS_CHROOT";
    std::vector<int> no_chroot = base;
    std::erase(no_chroot, CAP_SYS_CHROOT);
    EXPECT_FALSE(allows(sdrun::default_seccomp(no_chroot), "chroot"));
    const std::vector<std::pair<int, std::vector<std::string>>> opened = {
        {CAP_SYS_ADMIN, {"mount", "umount2", "unshare", "setns", "clone", "clone3"}},
        {CAP_SYS_PTRACE, {"process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd"}},
        {CAP_SYS_BOOT, {"reboot"}},
        {CAP_SYS_MODULE, {"init_module", "finit_module", "delete_module"}},
        {CAP_SYS_TIME, {"settimeofday", "clock_settime"}},
        {CAP_DAC_READ_SEARCH, {"open_by_handle_at"}},
    };
    for (const auto& [cap, names] : opened) {
        auto more = sdrun::default_seccomp(with(base, cap));
        for (const auto& name : names) {
            EXPECT_FALSE(allows(s, name)) << name;
            EXPECT_TRUE(allows(more, name)) << name << " with capability " << cap;
        }
    }
}

// Without CAP_SYS_ADMIN: clone only without namespace flags, clone3 ENOSYS (libc falls back).
TEST(DefaultSeccomp, CloneWithoutNamespaceFlagsOnly) {
    auto s = sdrun::default_seccomp(sdrun::default_capabilities());
    bool clone_masked = false;
    bool clone3_enosys = false;
    for (const auto& r : s.syscalls) {
        if (r.names == std::vector<std::string>{"clone"}) {
            ASSERT_EQ(r.args.size(), 1U);
            EXPECT_EQ(r.args[0].op, sdrun::SeccompOp::masked_eq);
            EXPECT_NE(r.args[0].value & CLONE_NEWUSER, 0U);
            EXPECT_EQ(r.args[0].value_two, 0U);
            clone_masked = true;
        }
        if (r.names == std::vector<std::string>{"clone3"}) {
            clone3_enosys = r.action == SeccompAction::errno_ret && r.errno_ret == ENOSYS;
        }
    }
    EXPECT_TRUE(clone_masked);
    EXPECT_TRUE(clone3_enosys);
}

TEST(DockerProfile, ReadsRulesArgsAndCapabilityConditions) {
    auto s = sdrun::parse_docker_profile(R"({
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {"name": "personality", "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_CHROOT"]}},
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
        ]})",
                                         sdrun::default_capabilities());
    EXPECT_EQ(s.default_errno, 38U);
    EXPECT_EQ(s.architectures, std::vector<std::string>{"SCMP_ARCH_X86"});
    ASSERT_EQ(s.syscalls.size(), 3U) << "mount needs CAP_SYS_ADMIN, chroot is excluded";
    EXPECT_EQ(s.syscalls[1].names, std::vector<std::string>{"personality"});
    ASSERT_EQ(s.syscalls[1].args.size(), 1U);
    EXPECT_EQ(s.syscalls[1].args[0].value, 8U);
    EXPECT_EQ(s.syscalls[2].errno_ret, 13U);
}

TEST(DockerProfile, RefusesWhatItCannotApply) {
    for (const char* bad : {
             R"({"syscalls": []})",
             R"({"defaultAction": "SCMP_ACT_NOTIFY"})",
             R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]})",
             R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]})",
             R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
                 "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_NOPE"]}}]})",
         }) {
        EXPECT_THROW(sdrun::parse_docker_profile(bad, {}), sdrun::Error) << bad;
    }
}

}  // namespace
