#include "ipam/pending_file.hpp"

#include <cerrno>
#include <cstdio>
#include <utility>

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include "ipam/file_io.hpp"
#include "netlib/error.hpp"

namespace ipam {

PendingFile::PendingFile(Dirs dirs, std::string content, bool durable, bool named)
    : dirs_(std::move(dirs)), content_(std::move(content)), durable_(durable), named_(named) {
    if (!named_) {
        int fd = ::openat(dirs_.dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0) {
            tmpfile_ = netlib::Fd{fd};
            write(fd, dirs_.dir + "/(O_TMPFILE)");
            return;
        }
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
            throw netlib::Error(errno, "open O_TMPFILE", dirs_.dir);
        }
    }
    create_named();  // a file system without O_TMPFILE
}

PendingFile::PendingFile(PendingFile&& other) noexcept
    : dirs_(std::move(other.dirs_)),
      content_(std::move(other.content_)),
      durable_(other.durable_),
      named_(other.named_),
      tmpfile_(std::move(other.tmpfile_)),
      temp_name_(std::exchange(other.temp_name_, {})) {}

PendingFile::~PendingFile() {
    if (!temp_name_.empty()) {
        ::unlinkat(dirs_.temp_fd, temp_name_.c_str(), 0);
    }
}

void PendingFile::write(int fd, const std::string& what) {
    file_io::write_all(fd, content_, what);
    if (durable_) {
        netlib::check_errno(::fdatasync(fd), "fdatasync", what);
    }
}

void PendingFile::create_named() {
    for (;;) {
        unsigned long long rnd = 0;
        if (::getrandom(&rnd, sizeof rnd, 0) != static_cast<ssize_t>(sizeof rnd)) {
            throw netlib::Error(errno, "getrandom", "temp name");
        }
        char name[64];
        std::snprintf(name, sizeof name, "%.*s%d-%016llx", static_cast<int>(kTempPrefix.size()),
                      kTempPrefix.data(), static_cast<int>(::getpid()), rnd);
        int fd = ::openat(dirs_.temp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
            continue;
        }
        netlib::check_errno(fd, "open", dirs_.temp_dir + "/" + name);
        netlib::Fd file{fd};
        temp_name_ = name;  // from here on the destructor removes it, even if the write fails
        write(fd, dirs_.temp_dir + "/" + name);
        return;
    }
}

bool PendingFile::link_named(const std::string& name) {
    if (::linkat(dirs_.temp_fd, temp_name_.c_str(), dirs_.dir_fd, name.c_str(), 0) != 0) {
        if (errno == EEXIST) {
            return false;
        }
        throw netlib::Error(errno, "link", dirs_.dir + "/" + name);
    }
    ::unlinkat(dirs_.temp_fd, temp_name_.c_str(), 0);  // the new name keeps the inode
    temp_name_.clear();
    return true;
}

bool PendingFile::link_as(const std::string& name) {
    if (!tmpfile_) {
        return link_named(name);
    }
    // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd works for anyone.
    if (::linkat(tmpfile_.get(), "", dirs_.dir_fd, name.c_str(), AT_EMPTY_PATH) == 0) {
        tmpfile_.reset();
        return true;
    }
    if (errno == EEXIST) {
        return false;
    }
    std::string proc = "/proc/self/fd/" + std::to_string(tmpfile_.get());
    if (::linkat(AT_FDCWD, proc.c_str(), dirs_.dir_fd, name.c_str(), AT_SYMLINK_FOLLOW) == 0) {
        tmpfile_.reset();
        return true;
    }
    if (errno == EEXIST) {
        return false;
    }
    if (errno != ENOENT) {
        throw netlib::Error(errno, "link", dirs_.dir + "/" + name);
    }
    tmpfile_.reset();  // no /proc: fall back to a named temp file
    create_named();
    return link_named(name);
}

}  // namespace ipam
