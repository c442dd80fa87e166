// A result of any version (what a delegated IPAM plugin or a chained plugin prints): parsed,
// printed in every supported version, and each print parsed back to the same addresses.
#include <cstdlib>

#include "plugins/cni/error.hpp"
#include "plugins/cni/types.hpp"
#include "plugins/cni/version.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sdnet::fuzz;
    auto j = json_of(text(data, size));
    if (!j) {
        return 0;
    }
    cni::Result r;
    if (!fails_cleanly_or_succeeds<cni::Error>([&] { r = cni::parse_result(*j); })) {
        return 0;
    }
    for (const auto& v : cni::supported_versions()) {
        nlohmann::json printed;
        if (!fails_cleanly_or_succeeds<cni::Error>([&] { printed = cni::to_json(r, v); })) {
            continue;
        }
        printed["cniVersion"] = v.to_string();
        // What we print, we read back: a result that does not round-trip would be lost by the
        // next plugin of the chain.
        cni::Result again = cni::parse_result(printed);
        if (v >= cni::kV040 && again.ips.size() != r.ips.size()) {
            std::abort();
        }
    }
    return 0;
}
