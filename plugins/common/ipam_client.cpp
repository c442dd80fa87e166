#include "plugins/common/ipam_client.hpp"

#include <cerrno>
#include <climits>
#include <memory>
#include <pthread.h>
#include <string>
#include <system_error>

#include <sched.h>
#include <sys/stat.h>
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

// The same file, wherever the path's symlinks lead.
bool same_file(const std::string& a, const std::string& b) {
    struct stat sa = {};
    struct stat sb = {};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

bool in_process(const cni::Request& req) {
    if (req.conf.ipam_type != "host-local" || ::getenv("SDNET_IPAM_EXEC") != nullptr) {
        return false;
    }
    std::string found = cni::find_plugin(req.conf.ipam_type, req.env.path);
    return same_file(found, own_dir() + "/host-local");  // find_plugin throws if none
}

void release_quietly(const cni::Request& req) {
    try {
        ipam_del(req);
    } catch (const std::exception& e) {
        cni::warn(std::string{"rollback step failed: "} + e.what());
    }
}

// A new thread starts on its creator's CPU and waits there until the creator blocks. The
// plugin's main thread rarely does (the kernel does its netlink work synchronously), so the
// allocation would wait for the link setup and the two would run one after the other. Started
// on any other CPU the process may use, the worker runs alongside, and it stays off the main
// thread's CPU while it allocates in-process: free to move, it would follow the main thread
// there after waking from a lock the two share (the heap's).
bool other_cpus(const cpu_set_t& allowed, cpu_set_t& others) {
    int here = ::sched_getcpu();
    if (here < 0) {
        return false;
    }
    others = allowed;
    CPU_CLR(here, &others);
    return CPU_COUNT(&others) > 0;
}

int start_detached(void* (*body)(void*), void* arg, const cpu_set_t* cpus) {
    pthread_attr_t attr;
    ::pthread_attr_init(&attr);
    ::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (cpus != nullptr) {
        (void)::pthread_attr_setaffinity_np(&attr, sizeof *cpus, cpus);
    }
    pthread_t thread;
    int rc = ::pthread_create(&thread, &attr, body, arg);
    ::pthread_attr_destroy(&attr);
    return rc;
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

// The worker owns the promise, so the shared state outlives whichever side finishes last, and
// the worker is detached: the ADD goes on as soon as the result is set, without waiting for the
// thread to exit.
struct PendingIpamAdd::Job {
    PendingIpamAdd* owner;
    std::promise<cni::Result> promise;
    cpu_set_t cpus;  // the creator's, all given back before a delegated IPAM plugin starts
    bool cpus_known;
};

PendingIpamAdd::PendingIpamAdd(const cni::Request& req, AfterAllocation then)
    : req_(req), then_(std::move(then)) {
    auto job = std::make_unique<Job>();
    job->owner = this;
    result_ = job->promise.get_future();
    job->cpus_known = ::sched_getaffinity(0, sizeof job->cpus, &job->cpus) == 0;
    cpu_set_t others;
    int rc = EINVAL;
    if (job->cpus_known && other_cpus(job->cpus, others)) {
        rc = start_detached(&PendingIpamAdd::run, job.get(), &others);
    }
    if (rc != 0) {  // one CPU, or the affinity was refused: anywhere
        rc = start_detached(&PendingIpamAdd::run, job.get(), nullptr);
    }
    if (rc != 0) {
        throw std::system_error(rc, std::generic_category(), "pthread_create");
    }
    (void)job.release();
}

void* PendingIpamAdd::run(void* arg) {
    std::unique_ptr<Job> job{static_cast<Job*>(arg)};
    try {
        job->promise.set_value(
            job->owner->allocate(job->cpus_known ? &job->cpus : static_cast<cpu_set_t*>(nullptr)));
    } catch (...) {
        job->promise.set_exception(std::current_exception());
    }
    return nullptr;  // `owner` may be gone from here on
}

cni::Result PendingIpamAdd::allocate(const cpu_set_t* all_cpus) {
    cni::Result r;
    if (in_process(req_)) {
        r = ipam::host_local_add(req_);
    } else {
        if (all_cpus != nullptr) {
            // The delegated plugin inherits this thread's CPUs: all of them again.
            (void)::sched_setaffinity(0, sizeof *all_cpus, all_cpus);
        }
        r = cni::delegate_add(req_);
    }
    if (then_.apply) {
        try {
            then_.apply(r);
        } catch (...) {
            release_quietly(req_);
            throw;
        }
    }
    return r;
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
