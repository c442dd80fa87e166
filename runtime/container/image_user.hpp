#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

// Users as docker reads `-u` and an image's User: names looked up in the image's own files.
namespace sdrun {

struct ExecUser {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> additional_gids;  // groups of /etc/group that list the user
    std::string home = "/";
};

// `user` is USER[:GROUP], each a name or a number. Names are looked up in the image's
// /etc/passwd and /etc/group, read from `layers` (top first, as overlayfs stacks them) without
// following a symlink (on the host it would lead to the host's files: refused). A user without a
// group takes the group of its passwd entry and the supplementary groups that list it; a number
// without an entry is taken as is, with gid 0 and home / (as docker does). Throws sdrun::Error
// for an unknown name, a bad number or a symlinked /etc file.
ExecUser resolve_user(const std::string& user, const std::vector<std::filesystem::path>& layers);

}  // namespace sdrun
