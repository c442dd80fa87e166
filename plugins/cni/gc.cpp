#include "plugins/cni/gc.hpp"

#include <algorithm>

#include "plugins/cni/error.hpp"
#include "plugins/cni/json_util.hpp"

namespace cni {
namespace {

using nlohmann::json;

constexpr const char* kValidKey = "cni.dev/valid-attachments";
constexpr const char* kLegacyKey = "cni.dev/attachments";  // spec-v1.1.0, renamed by cni#1103

[[noreturn]] void invalid(const std::string& what, const std::string& why) {
    throw config_error("invalid GC configuration: \"" + what + "\" " + why);
}

const std::string& required_string(const json& entry, const char* key, const std::string& path) {
    const json* v = json_util::find(entry, key);
    std::string where = path + "." + key;
    if (v == nullptr) {
        invalid(where, "is required");
    }
    if (!v->is_string()) {
        invalid(where, std::string{"must be a string, got "} + v->type_name());
    }
    const auto& s = v->get_ref<const std::string&>();
    if (s.empty()) {
        invalid(where, "must not be empty");
    }
    return s;
}

}  // namespace

std::optional<ValidAttachments> ValidAttachments::parse(const json& config) {
    const char* key = kValidKey;
    const json* list = json_util::find(config, key);
    if (list == nullptr) {
        key = kLegacyKey;
        list = json_util::find(config, key);
    }
    if (list == nullptr) {
        return std::nullopt;
    }
    if (!list->is_array()) {
        invalid(key, std::string{"must be a list, got "} + list->type_name());
    }
    ValidAttachments out;
    if (auto name = json_util::get_string(config, "name")) {
        out.network_ = *name;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
        const json& entry = (*list)[i];
        std::string path = std::string{key} + "[" + std::to_string(i) + "]";
        if (!entry.is_object()) {
            invalid(path, std::string{"must be an object, got "} + entry.type_name());
        }
        out.listed_.emplace(required_string(entry, "containerID", path),
                            required_string(entry, "ifname", path));
    }
    return out;
}

bool ValidAttachments::is_live(const Attachment& owner) const {
    if (owner.network != network_) {
        return true;
    }
    if (owner.ifname.empty()) {
        return std::any_of(listed_.begin(), listed_.end(),
                           [&](const auto& a) { return a.first == owner.container_id; });
    }
    return listed_.contains({owner.container_id, owner.ifname});
}

}  // namespace cni
