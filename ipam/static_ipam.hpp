#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "plugins/cni/skel.hpp"
#include "plugins/cni/types.hpp"
#include "plugins/cni/version.hpp"

// The `static` IPAM plugin: hands out exactly the addresses, routes and DNS its configuration
// names, as the reference's plugins/ipam/static does, with stricter validation. Pure: nothing
// is reserved, so DEL and GC have nothing to release.
namespace ipam {

// Addresses: ipam.addresses, then CNI_ARGS IP= (comma-separated CIDRs, appended) with
// GATEWAY= (each gateway set on the addresses whose subnet holds it); args.cni.ips, then
// runtimeConfig.ips, replace the list when present (the reference's order). Routes from
// ipam.routes, DNS from ipam.dns. Throws cni::Error: code 7 naming the key for any invalid
// configuration value, code 4 for a malformed CNI_ARGS.
cni::Result static_result(const nlohmann::json& config, const cni::Version& version,
                          std::string_view cni_args);

cni::Plugin static_plugin();

}  // namespace ipam
