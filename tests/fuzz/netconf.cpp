// A plugin's configuration on stdin: the common keys (cniVersion, name, type, ipam, dns,
// prevResult, runtimeConfig, args), and a prevResult printed back in every supported version.
#include "plugins/cni/error.hpp"
#include "plugins/cni/skel.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sdnet::fuzz;
    auto j = json_of(text(data, size));
    if (!j) {
        return 0;
    }
    cni::NetConf conf;
    if (!fails_cleanly_or_succeeds<cni::Error>([&] { conf = cni::NetConf::parse(*j); }) ||
        !conf.prev_result) {
        return 0;
    }
    for (const auto& v : cni::supported_versions()) {
        (void)fails_cleanly_or_succeeds<cni::Error>(
            [&] { (void)cni::to_json(*conf.prev_result, v); });
    }
    return 0;
}
