// The link attributes only the tuning plugin changes (declared in link.hpp).

#include <linux/if.h>

#include "netlib/link_internal.hpp"

namespace netlib {

void set_allmulti(RouteSocket& sock, int index, bool on) {
    detail::LinkPtr changes = detail::new_link();
    on ? rtnl_link_set_flags(changes.get(), IFF_ALLMULTI)
       : rtnl_link_unset_flags(changes.get(), IFF_ALLMULTI);
    detail::change_link(sock, index, changes.get());
}

void set_txqlen(RouteSocket& sock, int index, unsigned txqlen) {
    detail::LinkPtr changes = detail::new_link();
    rtnl_link_set_txqlen(changes.get(), txqlen);
    detail::change_link(sock, index, changes.get());
}

}  // namespace netlib
