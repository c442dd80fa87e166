#pragma once

#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "plugins/cni/stdio.hpp"

namespace cni {

// Undo steps for a transactional ADD. Each mutating step registers its inverse right after it
// succeeds; if the ADD leaves scope without commit() (an exception), the steps run newest first.
// An undo step that throws is reported on stderr and the remaining steps still run.
class Rollback {
public:
    Rollback() = default;
    Rollback(const Rollback&) = delete;
    Rollback& operator=(const Rollback&) = delete;

    ~Rollback() {
        if (committed_) {
            return;
        }
        for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
            try {
                (*it)();
            } catch (const std::exception& e) {
                warn(std::string{"rollback step failed: "} + e.what());
            }
        }
    }

    void add(std::function<void()> undo) { undo_.push_back(std::move(undo)); }

    void commit() noexcept { committed_ = true; }

private:
    std::vector<std::function<void()>> undo_;
    bool committed_ = false;
};

}  // namespace cni
