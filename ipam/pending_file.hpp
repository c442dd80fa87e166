#pragma once

#include <string>
#include <string_view>

#include "netlib/fd.hpp"

namespace ipam {

// Names of fallback temp files: never an address, so no reader mistakes one.
inline constexpr std::string_view kTempPrefix = "tmp-";

// A file whose content is complete before it gets a name. Normally an unnamed O_TMPFILE inode,
// named with linkat(2); where O_TMPFILE or /proc are unavailable, a "tmp-<pid>-<rand>" file in
// a side directory, hard-linked and then removed. link fails with EEXIST when the name is taken,
// so this is O_EXCL with content: the name never exists half-written, whenever the process dies,
// and a failed link leaves the file for the next name to try.
class PendingFile {
public:
    struct Dirs {
        int dir_fd;            // where the name goes
        std::string dir;       // its path, for messages
        int temp_fd;           // same file system: where a fallback temp file goes
        std::string temp_dir;  // its path
    };

    // Writes `content`, fdatasync'ed if `durable`. `named` skips the O_TMPFILE attempt.
    // Throws netlib::Error.
    PendingFile(Dirs dirs, std::string content, bool durable, bool named);
    ~PendingFile();
    PendingFile(PendingFile&& other) noexcept;
    PendingFile(const PendingFile&) = delete;
    PendingFile& operator=(const PendingFile&) = delete;
    PendingFile& operator=(PendingFile&&) = delete;

    // Gives the file the name `name` in dirs.dir_fd; false if that name exists. After it
    // succeeded once the object is spent.
    bool link_as(const std::string& name);

    // Whether it uses a named temp file (so callers can skip O_TMPFILE from then on).
    bool named() const noexcept { return !temp_name_.empty() || named_; }

    // The fallback temp file's name, or empty.
    const std::string& temp_name() const noexcept { return temp_name_; }

private:
    void write(int fd, const std::string& what);
    void create_named();
    bool link_named(const std::string& name);

    Dirs dirs_;
    std::string content_;
    bool durable_;
    bool named_;
    netlib::Fd tmpfile_;     // the O_TMPFILE inode
    std::string temp_name_;  // or the fallback file under dirs_.temp_fd
};

}  // namespace ipam
