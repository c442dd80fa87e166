// An IPAM configuration as host-local and static read it: ranges, rangeStart/End, gateways,
// routes, dataDir, the requested addresses of args and runtimeConfig.
#include "ipam/config.hpp"
#include "ipam/static_ipam.hpp"
#include "plugins/cni/error.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sdnet::fuzz;
    auto j = json_of(text(data, size));
    if (!j) {
        return 0;
    }
    (void)fails_cleanly_or_succeeds<cni::Error>([&] { (void)ipam::parse_config(*j, ""); });
    (void)fails_cleanly_or_succeeds<cni::Error>([&] { (void)ipam::parse_location(*j); });
    (void)fails_cleanly_or_succeeds<cni::Error>(
        [&] { (void)ipam::static_result(*j, cni::kV100, ""); });
    return 0;
}
