#include "runtime/container/seccomp.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <seccomp.h>

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/filter.h>

#include "netlib/fd.hpp"
#include "runtime/container/capabilities.hpp"
#include "runtime/container/error.hpp"

namespace sdrun {
namespace {

using json = nlohmann::json;

std::uint32_t to_libseccomp(SeccompAction action, unsigned err) {
    switch (action) {
        case SeccompAction::allow:
            return SCMP_ACT_ALLOW;
        case SeccompAction::errno_ret:
            return SCMP_ACT_ERRNO(err);
        case SeccompAction::kill_thread:
            return SCMP_ACT_KILL_THREAD;
        case SeccompAction::kill_process:
            return SCMP_ACT_KILL_PROCESS;
        case SeccompAction::trap:
            return SCMP_ACT_TRAP;
        case SeccompAction::log:
            return SCMP_ACT_LOG;
    }
    return SCMP_ACT_KILL_PROCESS;
}

scmp_compare to_libseccomp(SeccompOp op) {
    switch (op) {
        case SeccompOp::ne:
            return SCMP_CMP_NE;
        case SeccompOp::lt:
            return SCMP_CMP_LT;
        case SeccompOp::le:
            return SCMP_CMP_LE;
        case SeccompOp::eq:
            return SCMP_CMP_EQ;
        case SeccompOp::ge:
            return SCMP_CMP_GE;
        case SeccompOp::gt:
            return SCMP_CMP_GT;
        case SeccompOp::masked_eq:
            return SCMP_CMP_MASKED_EQ;
    }
    return SCMP_CMP_EQ;
}

// "SCMP_ARCH_X86" or "x86" -> libseccomp's token.
std::uint32_t arch_token(const std::string& name) {
    auto lower = name.rfind("SCMP_ARCH_", 0) == 0 ? name.substr(10) : name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto token = seccomp_arch_resolve_name(lower.c_str());
    if (token == 0) {
        throw Error("unknown seccomp architecture \"" + name + "\"");
    }
    return token;
}

bool repeats_an_index(const std::vector<SeccompArg>& args) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        for (std::size_t j = i + 1; j < args.size(); ++j) {
            if (args[i].index == args[j].index) {
                return true;
            }
        }
    }
    return false;
}

scmp_arg_cmp to_libseccomp(const SeccompArg& a) {
    if (a.op == SeccompOp::masked_eq) {
        return {a.index, SCMP_CMP_MASKED_EQ, a.value, a.value_two};
    }
    return {a.index, to_libseccomp(a.op), a.value, 0};
}

void add_rule(scmp_filter_ctx ctx, std::uint32_t action, int nr, const std::string& name,
              const std::vector<scmp_arg_cmp>& cmps) {
    int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(cmps.size()),
                                    cmps.empty() ? nullptr : cmps.data());
    if (rc != 0) {
        throw system_error("cannot add the seccomp rule for " + name, -rc);
    }
}

// libseccomp cannot AND two comparisons of one argument: like runc, each becomes its own rule.
void add_rules(scmp_filter_ctx ctx, const SeccompRule& rule, std::uint32_t default_action) {
    auto action = to_libseccomp(rule.action, rule.errno_ret.value_or(EPERM));
    if (action == default_action) {
        return;  // libseccomp refuses rules that change nothing
    }
    for (const auto& name : rule.names) {
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) {
            continue;  // unknown to this libseccomp: profiles name syscalls of newer kernels
        }
        if (repeats_an_index(rule.args)) {
            for (const auto& a : rule.args) {
                add_rule(ctx, action, nr, name, {to_libseccomp(a)});
            }
            continue;
        }
        std::vector<scmp_arg_cmp> cmps;
        for (const auto& a : rule.args) {
            cmps.push_back(to_libseccomp(a));
        }
        add_rule(ctx, action, nr, name, cmps);
    }
}

}  // namespace

SeccompFilter::SeccompFilter(const Seccomp& seccomp) {
    auto default_action = to_libseccomp(seccomp.default_action, seccomp.default_errno);
    ctx_ = seccomp_init(default_action);
    if (ctx_ == nullptr) {
        throw Error("cannot create a seccomp filter");
    }
    try {
        // no_new_privs is the spec's business (Process::no_new_privileges), not libseccomp's.
        seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_NNP, 0);
        for (const auto& arch : seccomp.architectures) {
            int rc = seccomp_arch_add(ctx_, arch_token(arch));
            if (rc != 0 && rc != -EEXIST) {
                throw system_error("cannot add seccomp architecture " + arch, -rc);
            }
        }
        for (const auto& rule : seccomp.syscalls) {
            add_rules(ctx_, rule, default_action);
        }
    } catch (...) {
        seccomp_release(ctx_);
        throw;
    }
}

SeccompFilter::~SeccompFilter() {
    seccomp_release(ctx_);
}

std::string SeccompFilter::program() const {
    // libseccomp 2.5 exports only to an fd: a memfd, where a write cannot raise SIGPIPE.
    netlib::Fd memfd(memfd_create("seccomp", MFD_CLOEXEC));
    if (!memfd) {
        throw system_error("memfd_create failed", errno);
    }
    if (int rc = seccomp_export_bpf(ctx_, memfd.get()); rc != 0) {
        throw system_error("cannot generate the seccomp program", -rc);
    }
    std::string out(static_cast<std::size_t>(lseek(memfd.get(), 0, SEEK_END)), '\0');
    if (pread(memfd.get(), out.data(), out.size(), 0) != static_cast<ssize_t>(out.size())) {
        throw system_error("cannot read the seccomp program", errno);
    }
    return out;
}

void install_seccomp_program(const std::string& program) {
    sock_fprog prog{static_cast<unsigned short>(program.size() / sizeof(sock_filter)),
                    reinterpret_cast<sock_filter*>(const_cast<char*>(program.data()))};
    if (program.empty() || program.size() % sizeof(sock_filter) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
        throw system_error("cannot install the seccomp filter", program.empty() ? EINVAL : errno);
    }
}

void send_seccomp_program(int socket_fd, const Seccomp& seccomp) {
    auto program = SeccompFilter(seccomp).program();
    if (send(socket_fd, program.data(), program.size(), MSG_NOSIGNAL) < 0 && errno != EPIPE) {
        throw system_error("cannot send the seccomp program", errno);
    }
}

std::string receive_seccomp_program(int socket_fd) {
    ssize_t size = recv(socket_fd, nullptr, 0, MSG_PEEK | MSG_TRUNC);
    std::string program(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
    if (size <= 0 || recv(socket_fd, program.data(), program.size(), 0) != size) {
        throw Error("no seccomp program from sdrun");
    }
    return program;
}

// docker's profile format ----------------------------------------------------------------------

namespace {

template <class T>
T lookup(const std::map<std::string, T>& table, const std::string& name, const char* what) {
    auto it = table.find(name);
    if (it == table.end()) {
        throw Error(std::string("unsupported seccomp ") + what + " \"" + name + "\"");
    }
    return it->second;
}

SeccompAction parse_action(const std::string& name) {
    static const std::map<std::string, SeccompAction> kActions = {
        {"SCMP_ACT_ALLOW", SeccompAction::allow},
        {"SCMP_ACT_ERRNO", SeccompAction::errno_ret},
        {"SCMP_ACT_KILL", SeccompAction::kill_thread},
        {"SCMP_ACT_KILL_THREAD", SeccompAction::kill_thread},
        {"SCMP_ACT_KILL_PROCESS", SeccompAction::kill_process},
        {"SCMP_ACT_TRAP", SeccompAction::trap},
        {"SCMP_ACT_LOG", SeccompAction::log},
    };
    return lookup(kActions, name, "action");
}

SeccompOp parse_op(const std::string& name) {
    static const std::map<std::string, SeccompOp> kOps = {
        {"SCMP_CMP_NE", SeccompOp::ne},
        {"SCMP_CMP_LT", SeccompOp::lt},
        {"SCMP_CMP_LE", SeccompOp::le},
        {"SCMP_CMP_EQ", SeccompOp::eq},
        {"SCMP_CMP_GE", SeccompOp::ge},
        {"SCMP_CMP_GT", SeccompOp::gt},
        {"SCMP_CMP_MASKED_EQ", SeccompOp::masked_eq},
    };
    return lookup(kOps, name, "operator");
}

// docker's (Go's) name of this machine's architecture, as includes.arches spells it.
std::string native_go_arch() {
    switch (seccomp_arch_native()) {
        case SCMP_ARCH_X86_64:
            return "amd64";
        case SCMP_ARCH_AARCH64:
            return "arm64";
        case SCMP_ARCH_X86:
            return "386";
        case SCMP_ARCH_ARM:
            return "arm";
        default:
            return "";
    }
}

bool contains(const json& list, const std::string& value) {
    return std::any_of(list.begin(), list.end(),
                       [&](const json& v) { return v.get<std::string>() == value; });
}

bool has_cap(const std::vector<int>& caps, const std::string& name) {
    return std::find(caps.begin(), caps.end(), capability_number(name)) != caps.end();
}

// includes: every listed cap held and the arch listed; excludes: none of them.
bool applies(const json& rule, const std::vector<int>& caps) {
    auto arch = native_go_arch();
    if (auto inc = rule.find("includes"); inc != rule.end()) {
        auto c = inc->value("caps", json::array());
        if (!std::all_of(c.begin(), c.end(),
                         [&](const json& n) { return has_cap(caps, n.get<std::string>()); })) {
            return false;
        }
        if (auto a = inc->value("arches", json::array()); !a.empty() && !contains(a, arch)) {
            return false;
        }
    }
    if (auto exc = rule.find("excludes"); exc != rule.end()) {
        auto c = exc->value("caps", json::array());
        if (std::any_of(c.begin(), c.end(),
                        [&](const json& n) { return has_cap(caps, n.get<std::string>()); })) {
            return false;
        }
        if (contains(exc->value("arches", json::array()), arch)) {
            return false;
        }
    }
    return true;
}

SeccompRule parse_rule(const json& j) {
    SeccompRule rule;
    if (j.contains("names")) {
        rule.names = j.at("names").get<std::vector<std::string>>();
    } else if (j.contains("name")) {
        rule.names = {j.at("name").get<std::string>()};
    } else {
        throw Error("a seccomp rule without \"names\"");
    }
    rule.action = parse_action(j.at("action").get<std::string>());
    if (j.contains("errnoRet")) {
        rule.errno_ret = j.at("errnoRet").get<unsigned>();
    }
    for (const auto& a : j.value("args", json::array())) {
        rule.args.push_back({a.at("index").get<unsigned>(), a.at("value").get<std::uint64_t>(),
                             a.value("valueTwo", std::uint64_t{0}),
                             parse_op(a.at("op").get<std::string>())});
    }
    return rule;
}

std::vector<std::string> architectures(const json& profile) {
    std::vector<std::string> out;
    auto native = seccomp_arch_native();
    for (const auto& m : profile.value("archMap", json::array())) {
        if (arch_token(m.at("architecture").get<std::string>()) == native) {
            for (const auto& sub : m.value("subArchitectures", json::array())) {
                out.push_back(sub.get<std::string>());
            }
        }
    }
    for (const auto& a : profile.value("architectures", json::array())) {
        out.push_back(a.get<std::string>());
    }
    return out;
}

}  // namespace

Seccomp parse_docker_profile(const std::string& json_text, const std::vector<int>& caps) {
    try {
        auto profile = json::parse(json_text);
        Seccomp out;
        out.default_action = parse_action(profile.at("defaultAction").get<std::string>());
        out.default_errno = profile.value("defaultErrnoRet", unsigned{EPERM});
        out.architectures = architectures(profile);
        for (const auto& rule : profile.value("syscalls", json::array())) {
            if (applies(rule, caps)) {
                out.syscalls.push_back(parse_rule(rule));
            }
        }
        SeccompFilter check(out);  // names, arches and values libseccomp refuses fail here
        return out;
    } catch (const json::exception& e) {
        throw Error(std::string("invalid seccomp profile: ") + e.what());
    }
}

}  // namespace sdrun
