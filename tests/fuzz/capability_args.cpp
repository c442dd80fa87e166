// The command-line forms sdnet turns into capability args: -p port mappings, bandwidth rates,
// --ip, --mac, ip ranges. The first byte picks the parser.
#include "runtime/libcni/capability_args.hpp"

#include "runtime/libcni/error.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sdnet::fuzz;
    if (size == 0) {
        return 0;
    }
    std::string_view arg = text(data + 1, size - 1);
    (void)fails_cleanly_or_succeeds<libcni::Error>([&] {
        switch (data[0] % 5) {
            case 0:
                (void)libcni::parse_port_mappings(arg);
                break;
            case 1:
                (void)libcni::default_burst(libcni::parse_rate(arg));
                break;
            case 2:
                (void)libcni::parse_ip_arg(arg);
                break;
            case 3:
                (void)libcni::parse_mac_arg(arg);
                break;
            default:
                (void)libcni::parse_ip_range_arg(arg);
                break;
        }
    });
    return 0;
}
