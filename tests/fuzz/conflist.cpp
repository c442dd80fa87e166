// A network configuration list (or a single .conf) as sdnet and libcni load it from the conf dir.
#include "runtime/libcni/conf.hpp"
#include "runtime/libcni/error.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sdnet::fuzz;
    (void)fails_cleanly_or_succeeds<libcni::Error>(
        [&] { (void)libcni::parse_network_list(text(data, size), "fuzz.conflist"); });
    return 0;
}
