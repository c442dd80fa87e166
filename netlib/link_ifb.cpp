// Creating ifb devices (the redirect target of tc-based ingress shaping).

#include <cerrno>

#include <linux/if.h>

#include "netlib/link.hpp"
#include "netlib/link_internal.hpp"

namespace netlib {

LinkInfo create_ifb(RouteSocket& sock, const IfbSpec& spec) {
    constexpr const char* kOp = "RTM_NEWLINK ifb";
    detail::LinkPtr link = detail::new_link();
    if (int rc = rtnl_link_set_type(link.get(), "ifb"); rc < 0) {
        throw Error(EOPNOTSUPP, kOp, spec.name, nl_geterror(rc));
    }
    rtnl_link_set_name(link.get(), spec.name.c_str());
    if (spec.mtu) {
        rtnl_link_set_mtu(link.get(), *spec.mtu);
    }
    if (spec.txqlen) {
        rtnl_link_set_txqlen(link.get(), *spec.txqlen);
    }
    if (spec.up) {
        rtnl_link_set_flags(link.get(), IFF_UP);
    }
    nl_msg* raw = nullptr;
    int rc = rtnl_link_build_add_request(link.get(), NLM_F_CREATE | NLM_F_EXCL, &raw);
    if (int err = detail::try_send_built(sock, rc, raw, kOp, spec.name); err != 0) {
        detail::fail(sock, err, kOp, spec.name);
    }
    // The index and MAC are the kernel's choice: one lookup.
    std::optional<LinkInfo> info;
    try {
        info = find_link(sock, spec.name);
        if (info && !spec.alias.empty()) {
            // The kernel ignores IFLA_IFALIAS in a creating RTM_NEWLINK (rtnl_create_link does
            // not read it), so the alias takes a request of its own.
            detail::LinkPtr changes = detail::new_link();
            rtnl_link_set_ifalias(changes.get(), spec.alias.c_str());
            detail::change_link(sock, info->index, changes.get());
            info->alias = spec.alias;
        }
    } catch (...) {
        try {
            (void)remove_link(sock, spec.name);
        } catch (const Error&) {
            // Report the original failure, not the cleanup's.
        }
        throw;
    }
    if (!info) {
        throw Error(ENODEV, "RTM_GETLINK", spec.name, "ifb vanished right after it was created");
    }
    return *info;
}

}  // namespace netlib
