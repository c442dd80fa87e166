#pragma once

#include <chrono>
#include <thread>

namespace sdnet::test {

// Polls `done` until it holds or a generous deadline passes. For what the kernel does on its own
// schedule (link watch, STP timers, a child process starting), where no event can be waited on;
// the deadline is far above any normal delay, so a loaded machine cannot fail the test.
template <class F>
bool eventually(F done, std::chrono::milliseconds deadline = std::chrono::seconds(60),
                std::chrono::milliseconds pause = std::chrono::milliseconds(10)) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) {
            return false;
        }
        std::this_thread::sleep_for(pause);
    }
    return true;
}

}  // namespace sdnet::test
