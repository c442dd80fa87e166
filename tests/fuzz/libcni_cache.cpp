// A result-cache entry (/var/lib/cni/results), written by libcni (podman, containerd) or sdnet:
// decoded, and what decodes encodes back to an entry that decodes to the same.
#include <cstdlib>

#include "runtime/libcni/cache.hpp"
#include "runtime/libcni/error.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sdnet::fuzz;
    libcni::CacheEntry entry;
    if (!fails_cleanly_or_succeeds<libcni::Error>(
            [&] { entry = libcni::decode_cache(text(data, size), "fuzz.json"); })) {
        return 0;
    }
    if (libcni::decode_cache(libcni::encode_cache(entry), "re-encoded") != entry) {
        std::abort();
    }
    return 0;
}
