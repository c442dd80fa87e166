#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "netlib/ip.hpp"

// Typed reads of configuration keys. Like the reference plugins (Go's encoding/json), keys match
// case-insensitively (an exact match wins) and unknown keys are ignored. A key with a value of
// the wrong type is a cni::Error with code 7 naming the key, e.g. `"mtu" must be an integer`.
namespace cni::json_util {

using nlohmann::json;

// The value for `key` in `obj`, or nullptr when `obj` is not an object, the key is absent or its
// value is null (Go treats null as absent).
const json* find(const json& obj, std::string_view key);

std::optional<std::string> get_string(const json& obj, std::string_view key);
std::optional<bool> get_bool(const json& obj, std::string_view key);
std::optional<std::int64_t> get_int(const json& obj, std::string_view key);
std::optional<std::uint64_t> get_uint(const json& obj, std::string_view key);
const json* get_object(const json& obj, std::string_view key);
const json* get_array(const json& obj, std::string_view key);
std::optional<netlib::IpAddr> get_ip(const json& obj, std::string_view key);
std::optional<netlib::IpNet> get_cidr(const json& obj, std::string_view key);

// Integer limited to [lo, hi]; the error names the key and the range.
std::optional<std::int64_t> get_int_in(const json& obj, std::string_view key, std::int64_t lo,
                                       std::int64_t hi);

// Throws unless `value` is a string; `what` names it in the error.
const std::string& as_string(const json& value, std::string_view what);

}  // namespace cni::json_util
