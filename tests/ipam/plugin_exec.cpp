#include "plugin_exec.hpp"

#include <cerrno>
#include <stdexcept>
#include <utility>
#include <vector>

#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ipam::test {
namespace {

int memfd(const char* name) {
    int fd = ::memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        throw std::runtime_error("memfd_create failed");
    }
    return fd;
}

std::string read_back(int fd) {
    std::string out;
    char buf[8192];
    off_t off = 0;
    for (;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, off);
        if (n <= 0) {
            return out;
        }
        out.append(buf, static_cast<std::size_t>(n));
        off += n;
    }
}

}  // namespace

nlohmann::json Exec::json() const {
    return nlohmann::json::parse(out);
}

int Exec::code() const {
    auto j = nlohmann::json::parse(out, nullptr, false);
    return j.is_object() && j.contains("code") ? j["code"].get<int>() : 0;
}

std::string Exec::msg() const {
    auto j = nlohmann::json::parse(out, nullptr, false);
    return j.is_object() && j.contains("msg") ? j["msg"].get<std::string>() : std::string{};
}

EnvMap cni_env(const std::string& command, const std::string& container_id,
               const std::string& ifname, const std::string& args) {
    EnvMap env = {{"CNI_COMMAND", command},
                  {"CNI_CONTAINERID", container_id},
                  {"CNI_NETNS", "/var/run/netns/" + container_id},
                  {"CNI_IFNAME", ifname},
                  {"CNI_PATH", "/usr/lib/cni"}};
    if (!args.empty()) {
        env["CNI_ARGS"] = args;
    }
    return env;
}

Child::Child(const std::string& binary, const EnvMap& env, const std::string& stdin_data) {
    int in = memfd("stdin");
    if (::write(in, stdin_data.data(), stdin_data.size()) !=
            static_cast<ssize_t>(stdin_data.size()) ||
        ::lseek(in, 0, SEEK_SET) != 0) {
        ::close(in);
        throw std::runtime_error("cannot write plugin stdin");
    }
    out_ = memfd("stdout");
    err_ = memfd("stderr");
    std::vector<std::string> strings;
    for (const auto& [k, v] : env) {
        strings.push_back(k + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& s : strings) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    std::string path = binary;
    char* argv[] = {path.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_, STDERR_FILENO);
    int rc = ::posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(in);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + binary);
    }
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      out_(std::exchange(other.out_, -1)),
      err_(std::exchange(other.err_, -1)) {}

Child::~Child() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    for (int fd : {out_, err_}) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
}

Exec Child::wait() {
    Exec e;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
        if (errno != EINTR) {
            throw std::runtime_error("waitpid failed");
        }
    }
    pid_ = -1;
    if (WIFEXITED(status)) {
        e.status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        e.signal = WTERMSIG(status);
    }
    e.out = read_back(out_);
    e.err = read_back(err_);
    return e;
}

}  // namespace ipam::test
