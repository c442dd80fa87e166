#include "runtime/container/sealed_binary.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/mount.h>

#include "runtime/container/error.hpp"

namespace sdrun {

netlib::Fd open_sealed_binary(const std::filesystem::path& file) {
    netlib::Fd tree(open_tree(AT_FDCWD, file.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!tree) {
        throw system_error("cannot open " + file.string(), errno);
    }
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
        throw system_error("cannot make a read-only mount of " + file.string(), errno);
    }
    return tree;
}

}  // namespace sdrun
