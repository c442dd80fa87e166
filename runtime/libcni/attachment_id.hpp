#pragma once

#include <string>
#include <string_view>

// Naming an attachment from the command line: which netns, which container id.
namespace libcni {

inline constexpr std::string_view kNamedNetnsDir = "/run/netns";

// A NETNS argument as a path: a bare name ("blue") is /run/netns/blue, anything with a '/' is
// a path, made absolute and lexically normalised (Go's filepath.Abs). Throws ArgumentError for
// an empty name, "." or "..".
std::string netns_path(std::string_view arg, std::string_view named_dir = kNamedNetnsDir);

// The container id cnitool derives for a netns path: "cnitool-" + the first 20 hex digits of
// sha512(path). Using the same rule means `sdnet detach` and `cnitool del` find each other's
// attachments.
std::string derive_container_id(std::string_view netns_path);

// True when `path` is a network namespace (an nsfs bind mount or /proc/<pid>/ns/net); false
// when it is missing or just a leftover file.
bool netns_alive(const std::string& path);

}  // namespace libcni
