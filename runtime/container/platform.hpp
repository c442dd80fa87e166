#pragma once

#include <nlohmann/json.hpp>
#include <string>

// Which machines an image runs on, in the OCI image spec's terms (os, architecture, variant).
namespace sdrun {

struct Platform {
    std::string os;
    std::string architecture;
    std::string variant;  // "v7" for arm/v7; empty when the image does not say

    // "os/arch[/variant]", as --platform takes it; throws sdrun::Error on anything else.
    static Platform parse(const std::string& text);
    // The "os", "architecture" and "variant" of an image config or an index's platform object.
    static Platform of(const nlohmann::json& object);
    // This machine: uname -m in Go's names (x86_64 = amd64, aarch64 = arm64/v8, armv7l = arm/v7).
    static Platform host();

    bool known() const { return !architecture.empty(); }

    // Whether an image for this platform fits `wanted`. A variant the image leaves out counts as
    // its architecture's default (arm64: v8, arm: v7); no variant wanted accepts any.
    bool fits(const Platform& wanted) const;

    std::string to_string() const;  // "linux/arm/v7"
};

}  // namespace sdrun
