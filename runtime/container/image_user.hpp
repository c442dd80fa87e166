#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

// Users as docker reads `-u` and an image's User: names looked up in the image's own files.
namespace sdrun {

struct UserIds {
    uid_t uid = 0;
    gid_t gid = 0;
};

// `user` is USER[:GROUP], each a name or a number. Names are looked up in the image's
// /etc/passwd and /etc/group, read from `layers` (top first, as overlayfs stacks them) without
// following a symlink. A user without a group takes the group of its passwd entry (0 when a
// numeric user has none). Throws sdrun::Error for an unknown name or a bad number.
UserIds resolve_user(const std::string& user, const std::vector<std::filesystem::path>& layers);

}  // namespace sdrun
