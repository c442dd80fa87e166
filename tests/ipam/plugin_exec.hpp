#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include <sys/types.h>

// Runs a CNI plugin binary the way a runtime does: a fresh environment holding only what the
// test passes, the configuration on stdin, the result (or error) JSON read from stdout. Small
// and local to the ipam tests on purpose (host-local needs no network namespace).
namespace ipam::test {

using EnvMap = std::map<std::string, std::string>;

inline const char* const kReferenceHostLocal = "/usr/lib/cni/host-local";

inline std::string our_host_local() {
    return SDNET_BUILD_DIR "/cni/host-local";
}

struct Exec {
    int status = -1;  // exit status, or -1 if killed
    int signal = 0;   // the killing signal, if any
    std::string out;
    std::string err;

    nlohmann::json json() const;
    // The CNI error code printed on stdout, or 0.
    int code() const;
    std::string msg() const;
};

// CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH (and CNI_ARGS if given).
EnvMap cni_env(const std::string& command, const std::string& container_id,
               const std::string& ifname = "eth0", const std::string& args = {});

// A started plugin process; wait() collects it.
class Child {
public:
    Child(const std::string& binary, const EnvMap& env, const std::string& stdin_data);
    ~Child();
    Child(Child&& other) noexcept;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    Child& operator=(Child&&) = delete;

    pid_t pid() const { return pid_; }

    Exec wait();

private:
    pid_t pid_ = -1;
    int out_ = -1;
    int err_ = -1;
};

inline Exec run(const std::string& binary, const EnvMap& env, const std::string& stdin_data) {
    return Child{binary, env, stdin_data}.wait();
}

}  // namespace ipam::test
