#include "tests/support/skip.hpp"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/netlink.h>

namespace sdnet::test {
namespace {

enum class Kernel { Host, UserModeLinux };

struct KnownGap {
    KernelFeature feature;
    Kernel kernel;
    const char* why;
};

// What these machines cannot do: the only reasons a test may skip in CI. The host is the CI
// machine's own kernel (Linux 6.18, built without the link kinds below); the guest is Debian's
// user-mode Linux 6.1 that scripts/uml-run boots, where every test that needs them runs. Add an
// entry only for a kernel that really lacks the feature, never for a missing tool or package.
constexpr std::array kKnownGaps{
    KnownGap{KernelFeature::Dummy, Kernel::Host,
             "the host kernel has no dummy driver; tested under user-mode Linux"},
    KnownGap{KernelFeature::Vlan, Kernel::Host,
             "the host kernel has no 8021q; tested under user-mode Linux"},
    KnownGap{KernelFeature::Ipvlan, Kernel::Host,
             "the host kernel has no ipvlan; tested under user-mode Linux"},
    KnownGap{KernelFeature::BridgeVlanFiltering, Kernel::Host,
             "the host kernel's bridge has no VLAN filtering; tested under user-mode Linux"},
    KnownGap{KernelFeature::Nftables, Kernel::UserModeLinux,
             "Debian's UML kernel config has no nftables families; tested on the host"},
    KnownGap{KernelFeature::ConntrackProcfs, Kernel::UserModeLinux,
             "Debian's UML kernel has no conntrack procfs; tested on the host"},
    KnownGap{KernelFeature::Rps, Kernel::UserModeLinux,
             "Debian's UML kernel has no RPS, so a link has no receive queues to count; tested on "
             "the host"},
};

bool allowed_skip = false;

bool env_is(const char* name, const char* value) {
    const char* v =
        std::getenv(name);  // NOLINT(concurrency-mt-unsafe): tests are single-threaded here
    return v != nullptr && std::strcmp(v, value) == 0;
}

Kernel this_kernel() {
    return in_user_mode_linux() ? Kernel::UserModeLinux : Kernel::Host;
}

ino_t netns_inode(const char* path) {
    struct stat st {};

    return ::stat(path, &st) == 0 ? st.st_ino : 0;
}

// Runs an `ip` command quietly in the current network namespace.
bool ip_ok(const std::string& args) {
    std::string cmd = "ip " + args + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;  // NOLINT(cert-env33-c): a test observer
}

bool probe_link(const std::string& create) {
    bool ok = ip_ok("link add " + create);
    (void)ip_ok("link del sdnprobe1");
    (void)ip_ok("link del sdnprobe0");
    return ok;
}

bool probe_bridge_vlan_filtering() {
    if (!ip_ok("link add sdnprobe0 type bridge vlan_filtering 1")) {
        return false;
    }
    std::string cmd = "ip -d link show sdnprobe0 2>/dev/null | grep -q 'vlan_filtering 1'";
    bool ok = std::system(cmd.c_str()) == 0;  // NOLINT(cert-env33-c): a test observer
    (void)ip_ok("link del sdnprobe0");
    return ok;
}

bool probe(KernelFeature f) {
    switch (f) {
        case KernelFeature::Dummy:
            return probe_link("sdnprobe0 type dummy");
        case KernelFeature::Vlan:
            return ip_ok("link add sdnprobe0 type veth peer name sdnprobe2") &&
                   probe_link("link sdnprobe0 name sdnprobe1 type vlan id 5");
        case KernelFeature::Ipvlan:
            return ip_ok("link add sdnprobe0 type veth peer name sdnprobe2") &&
                   probe_link("link sdnprobe0 name sdnprobe1 type ipvlan mode l2");
        case KernelFeature::BridgeVlanFiltering:
            return probe_bridge_vlan_filtering();
        case KernelFeature::Nftables: {
            int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
            if (fd >= 0) {
                ::close(fd);
            }
            return fd >= 0;
        }
        case KernelFeature::ConntrackProcfs:
            (void)std::system("modprobe -q nf_conntrack >/dev/null 2>&1");  // NOLINT(cert-env33-c)
            return std::filesystem::exists("/proc/net/nf_conntrack");
        case KernelFeature::Rps:  // the kernel reports IFLA_NUM_RX_QUEUES only with RPS
            return std::system("ip -d link show lo 2>/dev/null | grep -q numrxqueues") ==
                   0;  // NOLINT(cert-env33-c): a test observer
    }
    return false;
}

const KnownGap* known_gap(KernelFeature f) {
    for (const auto& gap : kKnownGaps) {
        if (gap.feature == f && gap.kernel == this_kernel()) {
            return &gap;
        }
    }
    return nullptr;
}

}  // namespace

const char* to_string(KernelFeature f) {
    switch (f) {
        case KernelFeature::Dummy:
            return "dummy links";
        case KernelFeature::Vlan:
            return "vlan links (8021q)";
        case KernelFeature::Ipvlan:
            return "ipvlan links";
        case KernelFeature::BridgeVlanFiltering:
            return "bridge VLAN filtering";
        case KernelFeature::Nftables:
            return "nftables";
        case KernelFeature::ConntrackProcfs:
            return "/proc/net/nf_conntrack";
        case KernelFeature::Rps:
            return "receive packet steering (RPS)";
    }
    return "?";
}

bool in_user_mode_linux() {
    return env_is("SDNET_UML", "1");
}

std::optional<std::string> missing_kernel_feature(KernelFeature f) {
    // Probing creates links: never in the machine's own namespace.
    if (!in_user_mode_linux() &&
        netns_inode("/proc/self/ns/net") == netns_inode("/proc/1/ns/net")) {
        ADD_FAILURE() << "kernel feature probe outside a private network namespace";
        return "not probed";
    }
    static std::map<KernelFeature, bool> cache;
    auto [it, fresh] = cache.try_emplace(f, false);
    if (fresh) {
        it->second = probe(f);
    }
    if (it->second) {
        return std::nullopt;
    }
    std::ostringstream why;
    why << "kernel lacks " << to_string(f);
    if (const KnownGap* gap = known_gap(f)) {
        allowed_skip = true;
        why << " (known gap: " << gap->why << ")";
    } else if (env_is("SDNET_NO_SKIP", "1")) {
        ADD_FAILURE() << "kernel lacks " << to_string(f)
                      << ", which is not on the known-gaps list of tests/support/skip.cpp";
    }
    return why.str();
}

bool skip_was_allowed() {
    return allowed_skip;
}

void reset_allowed_skip() {
    allowed_skip = false;
}

}  // namespace sdnet::test
