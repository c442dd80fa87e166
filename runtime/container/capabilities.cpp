#include "runtime/container/capabilities.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <sys/prctl.h>

#include "runtime/container/error.hpp"

namespace sdrun {
namespace {

// Indexed by CAP_* number (linux/capability.h).
constexpr std::array<const char*, 41> kNames = {"CHOWN",
                                                "DAC_OVERRIDE",
                                                "DAC_READ_SEARCH",
                                                "FOWNER",
                                                "FSETID",
                                                "KILL",
                                                "SETGID",
                                                "SETUID",
                                                "SETPCAP",
                                                "LINUX_IMMUTABLE",
                                                "NET_BIND_SERVICE",
                                                "NET_BROADCAST",
                                                "NET_ADMIN",
                                                "NET_RAW",
                                                "IPC_LOCK",
                                                "IPC_OWNER",
                                                "SYS_MODULE",
                                                "SYS_RAWIO",
                                                "SYS_CHROOT",
                                                "SYS_PTRACE",
                                                "SYS_PACCT",
                                                "SYS_ADMIN",
                                                "SYS_BOOT",
                                                "SYS_NICE",
                                                "SYS_RESOURCE",
                                                "SYS_TIME",
                                                "SYS_TTY_CONFIG",
                                                "MKNOD",
                                                "LEASE",
                                                "AUDIT_WRITE",
                                                "AUDIT_CONTROL",
                                                "SETFCAP",
                                                "MAC_OVERRIDE",
                                                "MAC_ADMIN",
                                                "SYSLOG",
                                                "WAKE_ALARM",
                                                "BLOCK_SUSPEND",
                                                "AUDIT_READ",
                                                "PERFMON",
                                                "BPF",
                                                "CHECKPOINT_RESTORE"};

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

bool is_all(const std::string& name) {
    return upper(name) == "ALL";
}

bool grantable(int cap) {
    return prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1;
}

}  // namespace

int capability_number(const std::string& name) {
    auto key = upper(name);
    if (key.rfind("CAP_", 0) == 0) {
        key = key.substr(4);
    }
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (key == kNames[i]) {
            return static_cast<int>(i);
        }
    }
    throw Error("unknown capability \"" + name + "\"");
}

std::string capability_name(int cap) {
    if (cap >= 0 && static_cast<std::size_t>(cap) < kNames.size()) {
        return std::string("CAP_") + kNames[static_cast<std::size_t>(cap)];
    }
    return "capability " + std::to_string(cap);
}

std::vector<int> grantable_capabilities() {
    std::vector<int> out;
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
        if (grantable(cap)) {
            out.push_back(cap);
        }
    }
    return out;
}

std::vector<int> adjust_capabilities(const std::vector<int>& base,
                                     const std::vector<std::string>& add,
                                     const std::vector<std::string>& drop) {
    bool add_all = std::any_of(add.begin(), add.end(), is_all);
    bool drop_all = std::any_of(drop.begin(), drop.end(), is_all);
    std::vector<int> caps = add_all    ? grantable_capabilities()
                            : drop_all ? std::vector<int>{}
                                       : base;
    for (const auto& name : drop) {
        if (!is_all(name)) {
            std::erase(caps, capability_number(name));
        }
    }
    for (const auto& name : add) {
        if (is_all(name)) {
            continue;
        }
        int cap = capability_number(name);
        if (!grantable(cap)) {
            throw Error("cannot add " + capability_name(cap) + ": not in sdrun's own bounding set");
        }
        if (std::find(caps.begin(), caps.end(), cap) == caps.end()) {
            caps.push_back(cap);
        }
    }
    std::sort(caps.begin(), caps.end());
    return caps;
}

}  // namespace sdrun
