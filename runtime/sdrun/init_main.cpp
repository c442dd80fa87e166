// sdrun-init PID: the container's PID 1 under `sdrun run` (see runtime/container/init.hpp).
// Started by the container's setup only; static, so it runs inside any image.
#include <charconv>
#include <cstring>

#include <unistd.h>

#include "runtime/container/init.hpp"

int main(int argc, char** argv) {
    pid_t command = 0;
    if (argc == 2) {
        auto [end, ec] = std::from_chars(argv[1], argv[1] + std::strlen(argv[1]), command);
        if (ec != std::errc() || *end != '\0') {
            command = 0;
        }
    }
    if (command <= 0 || getpid() != 1) {
        static const char kUsage[] = "sdrun-init: started by sdrun run as a container's PID 1\n";
        (void)!write(2, kUsage, sizeof kUsage - 1);
        return 125;
    }
    sdrun::run_init(command);
}
