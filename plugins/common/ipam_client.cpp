#include "plugins/common/ipam_client.hpp"

#include <climits>
#include <iostream>
#include <string>

#include <unistd.h>

#include "ipam/host_local.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/exec.hpp"

namespace plugin {
namespace {

std::string dir_of(const std::string& path) {
    return path.substr(0, path.rfind('/'));
}

std::string own_dir() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        return {};
    }
    return dir_of(std::string(buf, static_cast<std::size_t>(n)));
}

std::string real_dir(const std::string& file) {
    char buf[PATH_MAX];
    if (::realpath(file.c_str(), buf) == nullptr) {
        return {};
    }
    return dir_of(buf);
}

bool in_process(const cni::Request& req) {
    if (req.conf.ipam_type != "host-local" || ::getenv("SDNET_IPAM_EXEC") != nullptr) {
        return false;
    }
    std::string found = cni::find_plugin(req.conf.ipam_type, req.env.path);
    return real_dir(found) == own_dir();
}

}  // namespace

cni::Result ipam_add(const cni::Request& req) {
    return in_process(req) ? ipam::host_local_add(req) : cni::delegate_add(req);
}

void ipam_del(const cni::Request& req) {
    in_process(req) ? ipam::host_local_del(req) : cni::delegate(cni::Command::Del, req);
}

void ipam_check(const cni::Request& req) {
    in_process(req) ? ipam::host_local_check(req) : cni::delegate(cni::Command::Check, req);
}

void ipam_gc(const cni::Request& req) {
    in_process(req) ? ipam::host_local_gc(req) : cni::delegate(cni::Command::Gc, req);
}

void ipam_status(const cni::Request& req) {
    in_process(req) ? ipam::host_local_status(req) : cni::delegate(cni::Command::Status, req);
}

PendingIpamAdd::PendingIpamAdd(const cni::Request& req)
    : req_(req), result_(std::async(std::launch::async, [&req] { return ipam_add(req); })) {}

PendingIpamAdd::~PendingIpamAdd() {
    if (!result_.valid()) {
        return;
    }
    try {
        result_.get();
    } catch (...) {
        return;  // nothing was reserved
    }
    try {
        ipam_del(req_);
    } catch (const std::exception& e) {
        std::cerr << "rollback step failed: " << e.what() << '\n';
    }
}

cni::Result PendingIpamAdd::take(cni::Rollback& undo) {
    cni::Result r = result_.get();
    undo.add([&req = req_] { ipam_del(req); });
    return r;
}

}  // namespace plugin
