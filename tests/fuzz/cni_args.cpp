// CNI_ARGS and the other CNI_* values a runtime passes: the "K=V;..." parser, the container id
// and interface name rules, and CNI_ARGS as host-local and static read it (IP=, GATEWAY=).
#include "ipam/config.hpp"
#include "ipam/static_ipam.hpp"
#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

const nlohmann::json& host_local_config() {
    static const nlohmann::json config = nlohmann::json::parse(R"({
        "cniVersion": "1.0.0", "name": "fuzz", "type": "bridge",
        "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.1.0.0/16"}],
                                                  [{"subnet": "fd00::/64"}]]}})");
    return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sdnet::fuzz;
    std::string_view args = text(data, size);
    (void)cni::valid_id(args);
    (void)cni::ifname_problem(args);
    (void)fails_cleanly_or_succeeds<cni::Error>([&] {
        auto parsed = cni::CniArgs::parse(args);
        (void)parsed.get("IP");
        parsed.check_known({"IP", "MAC", "K8S_POD_NAME"});
    });
    (void)fails_cleanly_or_succeeds<cni::Error>(
        [&] { (void)ipam::parse_config(host_local_config(), args); });
    (void)fails_cleanly_or_succeeds<cni::Error>(
        [&] { (void)ipam::static_result(host_local_config(), cni::kV100, args); });
    return 0;
}
