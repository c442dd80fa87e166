#include "ipam/file_io.hpp"

#include <cerrno>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netlib/c_ptr.hpp"
#include "netlib/error.hpp"

namespace ipam::file_io {
namespace {

using Dir = netlib::CPtr<DIR, &closedir>;

}  // namespace

std::optional<netlib::Fd> open_at(int dirfd, const std::string& name, int flags,
                                  const std::string& where, unsigned mode) {
    int fd = ::openat(dirfd, name.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0 && (errno == ENOENT || errno == ELOOP)) {
        return std::nullopt;
    }
    netlib::check_errno(fd, "open", where + "/" + name);
    return netlib::Fd{fd};
}

netlib::Fd open_dir(int dirfd, const char* name, const std::string& where) {
    for (int attempt = 0;; ++attempt) {
        int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 || errno != ENOENT || attempt > 0) {
            netlib::check_errno(fd, "open", where + "/" + name);
            return netlib::Fd{fd};
        }
        if (::mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST) {
            throw netlib::Error(errno, "mkdir", where + "/" + name);
        }
    }
}

void make_dirs(const std::string& path) {
    for (std::size_t pos = 1; pos <= path.size(); ++pos) {
        if (pos != path.size() && path[pos] != '/') {
            continue;
        }
        std::string prefix = path.substr(0, pos);
        if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
            throw netlib::Error(errno, "mkdir", prefix);
        }
    }
}

std::optional<std::string> read_fd(int fd, const std::string& what) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(out.size()));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EISDIR) {
            return std::nullopt;
        }
        netlib::check_errno(n, "read", what);
        if (n == 0) {
            return out;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
}

std::optional<std::string> read_at(int dirfd, const std::string& name, const std::string& where) {
    auto fd = open_at(dirfd, name, O_RDONLY, where);
    if (!fd) {
        return std::nullopt;
    }
    return read_fd(fd->get(), where + "/" + name);
}

void write_all(int fd, std::string_view data, const std::string& what) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        netlib::check_errno(n, "write", what);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

void overwrite_at(int dirfd, const std::string& name, std::string_view data,
                  const std::string& where) {
    auto fd = open_at(dirfd, name, O_WRONLY | O_CREAT, where, 0600);
    if (!fd) {
        // A symlink in our place (planted, or left by hand): our file replaces the link itself,
        // never what it points to. O_EXCL: one planted again in between is an error.
        struct stat st {};

        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
            (void)::unlinkat(dirfd, name.c_str(), 0);
        }
        fd = open_at(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, where, 0600);
        if (!fd) {
            throw netlib::Error(ELOOP, "open", where + "/" + name);
        }
    }
    overwrite_fd(fd->get(), data, where + "/" + name);
}

void overwrite_fd(int fd, std::string_view data, const std::string& what) {
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::pwrite(fd, data.data() + off, data.size() - off, static_cast<off_t>(off));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        netlib::check_errno(n, "write", what);
        off += static_cast<std::size_t>(n);
    }
    netlib::check_errno(::ftruncate(fd, static_cast<off_t>(data.size())), "truncate", what);
}

bool unlink_at(int dirfd, const std::string& name, const std::string& where) {
    if (::unlinkat(dirfd, name.c_str(), 0) == 0) {
        return true;
    }
    if (errno == ENOENT) {
        return false;
    }
    throw netlib::Error(errno, "unlink", where + "/" + name);
}

std::vector<Entry> list_dir(int dirfd, const std::string& where) {
    int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    netlib::check_errno(fd, "open", where);
    Dir dir{::fdopendir(fd)};
    if (!dir) {
        int err = errno;
        ::close(fd);
        throw netlib::Error(err, "opendir", where);
    }
    std::vector<Entry> out;
    errno = 0;
    while (const dirent* e = ::readdir(dir.get())) {
        std::string_view name = e->d_name;
        if (name != "." && name != "..") {
            out.push_back({std::string{name}, e->d_type == DT_DIR});
        }
        errno = 0;
    }
    if (errno != 0) {
        throw netlib::Error(errno, "readdir", where);
    }
    return out;
}

Mapping::Mapping(int fd, std::size_t size, const std::string& what) : size_(size) {
    if (size == 0) {
        return;
    }
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        throw netlib::Error(errno, "mmap", what);
    }
    data_ = p;
}

Mapping::~Mapping() {
    if (data_ != nullptr) {
        ::munmap(data_, size_);
    }
}

Mapping::Mapping(Mapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
    if (this != &other) {
        if (data_ != nullptr) {
            ::munmap(data_, size_);
        }
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

std::string_view Mapping::view() const noexcept {
    return data_ == nullptr ? std::string_view{}
                            : std::string_view{static_cast<const char*>(data_), size_};
}

}  // namespace ipam::file_io
