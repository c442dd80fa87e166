#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

// docker's -u: user and group names looked up in the image's /etc/passwd and /etc/group.
namespace sdrun {

struct ExecUser {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> additional_gids;  // groups of /etc/group that list the user
    std::string home = "/";
};

// `user` is "USER[:GROUP]", each a name or a number. The files are read from `rootfs` with every
// path resolved inside it (a symlink in the image cannot point at the host's files). A number
// with no passwd entry is taken as is (gid 0, as docker does); a name that is not there is an
// error. Supplementary groups are added only when no group is given. Throws sdrun::Error.
ExecUser resolve_user(const std::filesystem::path& rootfs, const std::string& user);

}  // namespace sdrun
