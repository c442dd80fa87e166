#include "plugins/cni/exec.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netlib/error.hpp"
#include "netlib/fd.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/skel.hpp"

extern char** environ;  // NOLINT: POSIX

namespace cni {
namespace {

bool is_executable(const std::string& file) {
    struct stat st {};

    return ::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ::access(file.c_str(), X_OK) == 0;
}

// The plugin's stdin as a memfd: written in full before the child starts, so neither side can
// block on a full pipe.
netlib::Fd stdin_memfd(std::string_view data) {
    netlib::Fd fd{memfd_create("cni-stdin", MFD_CLOEXEC)};
    netlib::check_errno(fd.get(), "memfd_create");
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        netlib::check_errno(n, "write", "plugin stdin");
        off += static_cast<std::size_t>(n);
    }
    netlib::check_errno(::lseek(fd.get(), 0, SEEK_SET), "lseek", "plugin stdin");
    return fd;
}

std::string read_all(int fd) {
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        netlib::check_errno(n, "read", "plugin stdout");
        if (n == 0) {
            return out;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
}

pid_t spawn(const std::string& binary, const std::vector<std::string>& envp, int in_fd,
            int out_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    std::vector<char*> env_ptrs;
    for (const auto& e : envp) {
        env_ptrs.push_back(const_cast<char*>(e.c_str()));  // NOLINT: POSIX API takes char*
    }
    env_ptrs.push_back(nullptr);
    char* argv[] = {const_cast<char*>(binary.c_str()), nullptr};  // NOLINT
    pid_t pid = -1;
    int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv, env_ptrs.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw netlib::Error(rc, "exec", binary);
    }
    return pid;
}

int wait_exit(pid_t pid, const std::string& binary) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            throw netlib::Error(errno, "waitpid", binary);
        }
    }
    if (WIFSIGNALED(status)) {
        throw Error(Code::Internal,
                    "plugin " + binary + " killed by signal " + std::to_string(WTERMSIG(status)));
    }
    return WEXITSTATUS(status);
}

[[noreturn]] void throw_plugin_error(const std::string& binary, const std::string& out) {
    auto j = nlohmann::json::parse(out, nullptr, false);
    if (j.is_object() && j.contains("code") && j["code"].is_number_integer()) {
        std::string msg = j.value("msg", std::string{});
        std::string details = j.value("details", std::string{});
        throw Error(static_cast<Code>(j["code"].get<int>()), msg, details);
    }
    throw Error(Code::Internal, "plugin " + binary + " failed", out);
}

PluginEnv env_for(Command command, const Request& req) {
    return {command,        req.env.container_id, req.env.netns,
            req.env.ifname, req.env.args,         req.env.path};
}

}  // namespace

std::string find_plugin(std::string_view type, std::string_view path) {
    if (type.empty() || type.find('/') != std::string_view::npos) {
        throw config_error("invalid plugin type \"" + std::string{type} + "\"");
    }
    std::string_view rest = path;
    while (!rest.empty()) {
        auto end = rest.find(':');
        auto dir = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
        if (dir.empty()) {
            continue;
        }
        std::string file = std::string{dir} + "/" + std::string{type};
        if (is_executable(file)) {
            return file;
        }
    }
    throw Error(Code::InvalidConfig, "failed to find plugin \"" + std::string{type} +
                                         "\" in path [" + std::string{path} + "]");
}

std::vector<std::string> plugin_environment(const PluginEnv& env) {
    std::vector<std::string> out;
    for (char** e = environ; *e != nullptr; ++e) {
        if (std::strncmp(*e, "CNI_", 4) != 0) {
            out.emplace_back(*e);
        }
    }
    out.push_back(std::string{"CNI_COMMAND="} + to_string(env.command));
    out.push_back("CNI_CONTAINERID=" + env.container_id);
    out.push_back("CNI_NETNS=" + env.netns);
    out.push_back("CNI_IFNAME=" + env.ifname);
    out.push_back("CNI_ARGS=" + env.args);
    out.push_back("CNI_PATH=" + env.path);
    return out;
}

nlohmann::json exec_plugin(const std::string& binary, const std::vector<std::string>& envp,
                           std::string_view stdin_data) {
    netlib::Fd in = stdin_memfd(stdin_data);
    int pipe_fds[2];
    netlib::check_errno(::pipe2(pipe_fds, O_CLOEXEC), "pipe2");
    netlib::Fd out_read{pipe_fds[0]};
    netlib::Fd out_write{pipe_fds[1]};
    pid_t pid = spawn(binary, envp, in.get(), out_write.get());
    out_write.reset();
    std::string out;
    try {
        out = read_all(out_read.get());
    } catch (...) {
        wait_exit(pid, binary);
        throw;
    }
    if (wait_exit(pid, binary) != 0) {
        throw_plugin_error(binary, out);
    }
    if (out.find_first_not_of(" \t\r\n") == std::string::npos) {
        return nullptr;
    }
    auto j = nlohmann::json::parse(out, nullptr, false);
    if (j.is_discarded()) {
        throw Error(Code::Decode, "plugin " + binary + " printed invalid JSON", out);
    }
    return j;
}

Result delegate_add(const Request& req) {
    auto binary = find_plugin(req.conf.ipam_type, req.env.path);
    auto out = exec_plugin(binary, plugin_environment(env_for(Command::Add, req)), req.stdin_data);
    if (out.is_null()) {
        throw Error(Code::Internal, "IPAM plugin " + req.conf.ipam_type + " printed no result");
    }
    return parse_result(out);
}

void delegate(Command command, const Request& req) {
    auto binary = find_plugin(req.conf.ipam_type, req.env.path);
    exec_plugin(binary, plugin_environment(env_for(command, req)), req.stdin_data);
}

}  // namespace cni
