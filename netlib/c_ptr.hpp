#pragma once

#include <memory>

namespace netlib {

// Owns a C object freed by `Free`: libnl's rtnl_link_put, libnftnl's nftnl_rule_free, ...
template <auto Free>
struct Freer {
    template <class T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};

template <class T, auto Free>
using CPtr = std::unique_ptr<T, Freer<Free>>;

}  // namespace netlib
