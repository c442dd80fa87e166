#pragma once

namespace ipam {

// An exclusive flock(2) on an open file, held for the object's lifetime. flock locks belong to
// the open file description, so two descriptors opened separately exclude each other even inside
// one process, and the kernel drops the lock if the holder dies: a crashed plugin never leaves
// the network locked. This is the lock the reference takes (go-filemutex on <network>/lock).
class FileLock {
public:
    // Blocks until the lock on `fd` is ours (retrying on EINTR). The descriptor stays owned by
    // the caller and must outlive the lock. Throws netlib::Error.
    explicit FileLock(int fd);
    ~FileLock();

    FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    FileLock& operator=(FileLock&&) = delete;

private:
    int fd_;  // -1 once moved from
};

}  // namespace ipam
