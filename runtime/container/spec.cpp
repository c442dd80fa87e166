#include "runtime/container/spec.hpp"

#include <sys/mount.h>

#include <linux/capability.h>

namespace sdrun {

std::vector<int> default_capabilities() {
    return {CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
            CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
            CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
            CAP_KILL,    CAP_AUDIT_WRITE};
}

const std::vector<std::string>& default_devices() {
    static const std::vector<std::string> kDevices = {"null",   "zero",    "full",
                                                      "random", "urandom", "tty"};
    return kDevices;
}

namespace {

std::vector<Mount> default_mounts() {
    constexpr unsigned long kNoExec = MS_NOSUID | MS_NOEXEC | MS_NODEV;
    return {
        {"/proc", "proc", "proc", kNoExec, ""},
        {"/sys", "sysfs", "sysfs", kNoExec | MS_RDONLY, ""},
        {"/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
        {"/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
         "newinstance,ptmxmode=0666,mode=0620,gid=5"},
        {"/dev/shm", "tmpfs", "shm", kNoExec, "mode=1777,size=65536k"},
        {"/dev/mqueue", "mqueue", "mqueue", kNoExec, ""},
    };
}

}  // namespace

Spec default_spec() {
    Spec spec;
    spec.process.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "HOME=/root"};
    spec.process.capabilities = default_capabilities();
    spec.namespaces = {Namespace::pid, Namespace::mount, Namespace::uts, Namespace::ipc,
                       Namespace::network};
    spec.mounts = default_mounts();
    // runc's `spec` defaults (libcontainer/specconv/example.go) plus docker's additions.
    spec.masked_paths = {
        "/proc/acpi",        "/proc/asound",        "/proc/kcore",
        "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug",   "/proc/scsi",
        "/proc/interrupts",  "/sys/firmware",       "/sys/devices/virtual/powercap"};
    spec.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                           "/proc/sysrq-trigger"};
    return spec;
}

}  // namespace sdrun
