#include "plugins/common/ipam_client.hpp"

#include <climits>
#include <string>

#include <unistd.h>

#include "ipam/host_local.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/exec.hpp"
#include "plugins/cni/stdio.hpp"

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

void release_quietly(const cni::Request& req) {
    try {
        ipam_del(req);
    } catch (const std::exception& e) {
        cni::warn(std::string{"rollback step failed: "} + e.what());
    }
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

PendingIpamAdd::PendingIpamAdd(const cni::Request& req, AfterAllocation then)
    : req_(req), then_(std::move(then)) {
    result_ = std::async(std::launch::async, [this] {
        cni::Result r = ipam_add(req_);
        if (then_.apply) {
            try {
                then_.apply(r);
            } catch (...) {
                release_quietly(req_);
                throw;
            }
        }
        return r;
    });
}

PendingIpamAdd::~PendingIpamAdd() {
    if (!result_.valid()) {
        return;
    }
    cni::Result r;
    try {
        r = result_.get();
    } catch (...) {
        return;  // nothing was reserved, or it was released already
    }
    if (then_.revert) {
        try {
            then_.revert(r);
        } catch (const std::exception& e) {
            cni::warn(std::string{"rollback step failed: "} + e.what());
        }
    }
    release_quietly(req_);
}

cni::Result PendingIpamAdd::take(cni::Rollback& undo) {
    cni::Result r = result_.get();
    undo.add([&req = req_] { ipam_del(req); });
    if (then_.revert) {
        undo.add([revert = then_.revert, r] { revert(r); });
    }
    return r;
}

}  // namespace plugin
