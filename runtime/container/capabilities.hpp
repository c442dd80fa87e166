#pragma once

#include <string>
#include <vector>

// Capability names as docker and the OCI spec write them, and docker's --cap-add/--cap-drop.
namespace sdrun {

// "CAP_NET_ADMIN", "NET_ADMIN" or "net_admin" -> CAP_NET_ADMIN. Throws sdrun::Error otherwise.
int capability_number(const std::string& name);

// "CAP_NET_ADMIN" for CAP_NET_ADMIN.
std::string capability_name(int cap);

// Every capability the kernel knows that this process may still grant (its bounding set).
std::vector<int> grantable_capabilities();

// docker's rules: "ALL" in `add` starts from every grantable capability, "ALL" in `drop` from
// none; otherwise `drop` is removed from `base` and `add` added (add wins). A named capability
// this process cannot grant is an error, not a silent gap.
std::vector<int> adjust_capabilities(const std::vector<int>& base,
                                     const std::vector<std::string>& add,
                                     const std::vector<std::string>& drop);

}  // namespace sdrun
