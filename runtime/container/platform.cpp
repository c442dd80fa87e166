#include "runtime/container/platform.hpp"

#include <sys/utsname.h>

#include "runtime/container/error.hpp"

namespace sdrun {

namespace {

// The variant an image means when it names none (containerd's platforms.Normalize).
std::string default_variant(const std::string& architecture) {
    if (architecture == "arm64") {
        return "v8";
    }
    if (architecture == "arm") {
        return "v7";
    }
    return "";
}

std::string string_field(const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Platform Platform::parse(const std::string& text) {
    Platform p;
    auto first = text.find('/');
    auto second = first == std::string::npos ? first : text.find('/', first + 1);
    p.os = text.substr(0, first);
    if (first != std::string::npos) {
        p.architecture = text.substr(first + 1, second - first - 1);
    }
    if (second != std::string::npos) {
        p.variant = text.substr(second + 1);
    }
    if (p.os.empty() || p.architecture.empty() || p.variant.find('/') != std::string::npos ||
        (second != std::string::npos && p.variant.empty())) {
        throw Error("invalid platform \"" + text + "\": use os/arch[/variant], e.g. linux/arm64");
    }
    return p;
}

Platform Platform::of(const nlohmann::json& object) {
    if (!object.is_object()) {
        return {};
    }
    return {string_field(object, "os"), string_field(object, "architecture"),
            string_field(object, "variant")};
}

Platform Platform::host() {
    struct utsname u = {};
    uname(&u);
    std::string machine = u.machine;
    if (machine == "x86_64") {
        return {"linux", "amd64", ""};
    }
    if (machine == "aarch64" || machine == "arm64") {
        return {"linux", "arm64", "v8"};
    }
    if (machine.rfind("armv", 0) == 0 && machine.size() >= 5) {
        return {"linux", "arm", "v" + machine.substr(4, 1)};  // armv7l = arm/v7
    }
    if (machine == "i386" || machine == "i686") {
        return {"linux", "386", ""};
    }
    return {"linux", machine, ""};  // ppc64le, s390x, riscv64: Go uses uname's names
}

bool Platform::fits(const Platform& wanted) const {
    if (os != wanted.os || architecture != wanted.architecture) {
        return false;
    }
    if (wanted.variant.empty()) {
        return true;
    }
    auto mine = variant.empty() ? default_variant(architecture) : variant;
    return mine == wanted.variant ||
           (mine.empty() && wanted.variant == default_variant(wanted.architecture));
}

std::string Platform::to_string() const {
    return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

}  // namespace sdrun
