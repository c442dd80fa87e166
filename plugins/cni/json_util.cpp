#include "plugins/cni/json_util.hpp"

#include <strings.h>

#include "plugins/cni/error.hpp"

namespace cni::json_util {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

[[noreturn]] void wrong_type(std::string_view key, std::string_view want, const json& got) {
    throw config_error("invalid configuration: \"" + std::string{key} + "\" must be " +
                       std::string{want} + ", got " + got.type_name());
}

}  // namespace

const json* find(const json& obj, std::string_view key) {
    if (!obj.is_object()) {
        return nullptr;
    }
    const json* hit = nullptr;
    if (auto it = obj.find(std::string{key}); it != obj.end()) {
        hit = &*it;
    } else {
        for (const auto& [k, v] : obj.items()) {
            if (iequals(k, key)) {
                hit = &v;
                break;
            }
        }
    }
    return hit != nullptr && !hit->is_null() ? hit : nullptr;
}

std::optional<std::string> get_string(const json& obj, std::string_view key) {
    const json* v = find(obj, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    return as_string(*v, key);
}

std::optional<bool> get_bool(const json& obj, std::string_view key) {
    const json* v = find(obj, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_boolean()) {
        wrong_type(key, "a boolean", *v);
    }
    return v->get<bool>();
}

std::optional<std::int64_t> get_int(const json& obj, std::string_view key) {
    const json* v = find(obj, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_number_integer()) {
        wrong_type(key, "an integer", *v);
    }
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > INT64_MAX) {
        throw config_error("invalid configuration: \"" + std::string{key} + "\" is too large");
    }
    return v->get<std::int64_t>();
}

std::optional<std::uint64_t> get_uint(const json& obj, std::string_view key) {
    const json* v = find(obj, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_number_unsigned()) {
        wrong_type(key, "a non-negative integer", *v);
    }
    return v->get<std::uint64_t>();
}

std::optional<std::int64_t> get_int_in(const json& obj, std::string_view key, std::int64_t lo,
                                       std::int64_t hi) {
    auto v = get_int(obj, key);
    if (v && (*v < lo || *v > hi)) {
        throw config_error("invalid configuration: \"" + std::string{key} + "\" is " +
                           std::to_string(*v) + ", must be between " + std::to_string(lo) +
                           " and " + std::to_string(hi));
    }
    return v;
}

const json* get_object(const json& obj, std::string_view key) {
    const json* v = find(obj, key);
    if (v != nullptr && !v->is_object()) {
        wrong_type(key, "an object", *v);
    }
    return v;
}

const json* get_array(const json& obj, std::string_view key) {
    const json* v = find(obj, key);
    if (v != nullptr && !v->is_array()) {
        wrong_type(key, "a list", *v);
    }
    return v;
}

std::optional<netlib::IpAddr> get_ip(const json& obj, std::string_view key) {
    auto s = get_string(obj, key);
    if (!s) {
        return std::nullopt;
    }
    auto ip = netlib::IpAddr::try_parse(*s);
    if (!ip) {
        throw config_error("invalid configuration: \"" + std::string{key} +
                           "\" is not an IP address: \"" + *s + "\"");
    }
    return ip;
}

std::optional<netlib::IpNet> get_cidr(const json& obj, std::string_view key) {
    auto s = get_string(obj, key);
    if (!s) {
        return std::nullopt;
    }
    auto net = netlib::IpNet::try_parse(*s);
    if (!net) {
        throw config_error("invalid configuration: \"" + std::string{key} + "\" is not a CIDR: \"" +
                           *s + "\"");
    }
    return net;
}

const std::string& as_string(const json& value, std::string_view what) {
    if (!value.is_string()) {
        wrong_type(what, "a string", value);
    }
    return value.get_ref<const std::string&>();
}

}  // namespace cni::json_util
