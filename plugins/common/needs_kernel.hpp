#pragma once

#include <cerrno>
#include <string>

#include "netlib/error.hpp"
#include "plugins/cni/error.hpp"

namespace plugin {

// Runs `step`, which needs nftables because the configuration asks for `what` (e.g. "\"ipMasq\"").
// On a kernel built without it (the netfilter netlink socket is EPROTONOSUPPORT) the ADD fails
// with code 2 naming the key and the kernel feature; the caller's rollback leaves nothing.
template <class F>
auto needs_nftables(const std::string& what, F&& step) -> decltype(step()) {
    try {
        return step();
    } catch (const netlib::Error& e) {
        if (e.code() != EPROTONOSUPPORT) {
            throw;
        }
        throw cni::Error(cni::Code::UnsupportedField,
                         what +
                             " needs nftables, which this kernel does not support "
                             "(CONFIG_NF_TABLES)",
                         e.what());
    }
}

}  // namespace plugin
