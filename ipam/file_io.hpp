#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netlib/fd.hpp"

// Small *at() helpers for the disk store: every call names the file in its netlib::Error, never
// follows a symlink, and treats "does not exist" as a value, not an error.
namespace ipam::file_io {

struct Entry {
    std::string name;
    bool is_dir;
};

// `name` under `dirfd`; nullopt if it does not exist. `where` names the directory in errors.
std::optional<netlib::Fd> open_at(int dirfd, const std::string& name, int flags,
                                  const std::string& where, unsigned mode = 0);
// Opens (creating, 0700) the directory `name` under `dirfd`.
netlib::Fd open_dir(int dirfd, const char* name, const std::string& where);
// mkdir -p with 0755, as the reference's os.MkdirAll(dir, 0755).
void make_dirs(const std::string& path);

// The whole content, read from offset 0 whatever the file position; nullopt if `fd` is a
// directory.
std::optional<std::string> read_fd(int fd, const std::string& what);
// The content of `name`; nullopt if it does not exist (or is a directory or a symlink).
std::optional<std::string> read_at(int dirfd, const std::string& name, const std::string& where);
void write_all(int fd, std::string_view data, const std::string& what);
// Replaces the content of `name` (creating it, 0600) with pwrite + ftruncate, not O_TRUNC or
// rename: on ext4 both of those make close()/rename() flush the file (auto_da_alloc), which
// costs milliseconds. Not atomic: callers use it for files whose torn state is harmless. A
// symlink at `name` is replaced by the file, never written through.
void overwrite_at(int dirfd, const std::string& name, std::string_view data,
                  const std::string& where);
// The same on an open descriptor.
void overwrite_fd(int fd, std::string_view data, const std::string& what);
// Removes `name`; false if it did not exist.
bool unlink_at(int dirfd, const std::string& name, const std::string& where);
std::vector<Entry> list_dir(int dirfd, const std::string& where);

// A read-only private mapping of a whole file.
class Mapping {
public:
    Mapping() = default;
    // Maps `fd` (size `size`); an empty file gives an empty mapping.
    Mapping(int fd, std::size_t size, const std::string& what);
    ~Mapping();
    Mapping(Mapping&& other) noexcept;
    Mapping& operator=(Mapping&& other) noexcept;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;

    std::string_view view() const noexcept;

private:
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace ipam::file_io
