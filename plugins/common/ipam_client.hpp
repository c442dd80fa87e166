#pragma once

#include <functional>
#include <future>

#include <sched.h>

#include "plugins/cni/rollback.hpp"
#include "plugins/cni/skel.hpp"
#include "plugins/cni/types.hpp"

// IPAM for the main plugins. When `ipam.type` is "host-local" and the host-local found first on
// CNI_PATH sits next to this plugin (it is ours, from the same build), the allocator runs
// in-process: same files, same locking, same result, one fork/exec less per call. Any other IPAM
// plugin is executed as the spec's delegation describes.
namespace plugin {

cni::Result ipam_add(const cni::Request& req);
void ipam_del(const cni::Request& req);
void ipam_check(const cni::Request& req);
void ipam_gc(const cni::Request& req);
void ipam_status(const cni::Request& req);

// An IPAM ADD running on its own thread while the plugin sets up links: the two are independent
// and cost about the same (file locking and writes vs. the kernel's device setup), so an ADD pays
// for the longer of the two instead of their sum. Threads keep their own network namespace, so
// the allocation (or the delegated IPAM process) stays in the runtime's netns whatever the plugin
// thread enters.
//
// `then` is work that needs nothing but the allocated addresses (a masquerade element): it runs
// on the same thread right after the allocation, so it overlaps with the link setup too. If it
// fails, the allocation is released and take() rethrows its error; `then.revert` undoes it when
// the ADD fails later.
struct AfterAllocation {
    std::function<void(const cni::Result&)> apply;
    std::function<void(const cni::Result&)> revert;
};

class PendingIpamAdd {
public:
    explicit PendingIpamAdd(const cni::Request& req, AfterAllocation then = {});
    PendingIpamAdd(const PendingIpamAdd&) = delete;
    PendingIpamAdd& operator=(const PendingIpamAdd&) = delete;
    // If take() was never called (the ADD failed first), waits for the allocation and releases
    // whatever it reserved.
    ~PendingIpamAdd();

    // Waits for the result; rethrows the IPAM (or `then`) error. On success registers the
    // release, and then.revert, in `undo`.
    cni::Result take(cni::Rollback& undo);

private:
    struct Job;
    static void* run(void* job);
    cni::Result allocate(const cpu_set_t* all_cpus);

    const cni::Request& req_;
    AfterAllocation then_;
    std::future<cni::Result> result_;
};

}  // namespace plugin
