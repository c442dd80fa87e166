// What sdrun reads from images and the command line: an image config's "config" object (and
// docker's command rule over it), a docker-format seccomp profile, a platform ("os/arch[/variant]"
// or an index entry's object), sizes and counts. The first byte picks the parser.
#include <string>

#include "runtime/container/error.hpp"
#include "runtime/container/image_config.hpp"
#include "runtime/container/platform.hpp"
#include "runtime/container/seccomp.hpp"
#include "runtime/container/spec.hpp"
#include "runtime/container/units.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

void image_config(std::string_view bytes) {
    auto j = sdnet::fuzz::json_of(bytes);
    if (!j) {
        return;
    }
    auto config = sdrun::ImageConfig::parse(*j);
    (void)config.to_json();
    (void)config.command({});
}

void platform(std::string_view bytes) {
    (void)sdrun::Platform::parse(std::string{bytes});
    if (auto j = sdnet::fuzz::json_of(bytes)) {
        (void)sdrun::Platform::of(*j);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sdnet::fuzz;
    if (size == 0) {
        return 0;
    }
    std::string_view input = text(data + 1, size - 1);
    (void)fails_cleanly_or_succeeds<sdrun::Error>([&] {
        switch (data[0] % 4) {
            case 0:
                image_config(input);
                break;
            case 1:
                (void)sdrun::parse_docker_profile(std::string{input},
                                                  sdrun::default_capabilities());
                break;
            case 2:
                platform(input);
                break;
            default:
                (void)sdrun::parse_size(std::string{input}, "--memory");
                (void)sdrun::parse_count(std::string{input}, "--pids-limit");
                break;
        }
    });
    return 0;
}
