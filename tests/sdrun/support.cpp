#include "tests/sdrun/support.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sstream>
#include <stdexcept>

#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace sdrun_test {

Tarball::Tarball(fs::path file) : path_(std::move(file)), archive_(archive_write_new()) {
    archive_write_set_format_pax_restricted(archive_);
    if (archive_write_open_filename(archive_, path_.c_str()) != ARCHIVE_OK) {
        throw std::runtime_error("cannot write " + path_.string());
    }
}

Tarball::~Tarball() {
    archive_write_free(archive_);
}

void Tarball::add(const std::string& path, unsigned type, unsigned mode, const std::string& content,
                  const std::string& link) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    if (!link.empty()) {
        archive_entry_set_symlink(e, link.c_str());
    }
    archive_write_header(archive_, e);
    archive_write_data(archive_, content.data(), content.size());
    archive_entry_free(e);
}

void Tarball::file(const std::string& path, const std::string& content) {
    add(path, AE_IFREG, 0644, content, "");
}

void Tarball::dir(const std::string& path) {
    add(path, AE_IFDIR, 0755, "", "");
}

void Tarball::symlink(const std::string& path, const std::string& target) {
    add(path, AE_IFLNK, 0777, "", target);
}

void Tarball::char_device(const std::string& path, unsigned major, unsigned minor) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, AE_IFCHR);
    archive_entry_set_perm(e, 0666);
    archive_entry_set_rdev(e, makedev(major, minor));
    archive_write_header(archive_, e);
    archive_entry_free(e);
}

const fs::path& Tarball::close() {
    archive_write_close(archive_);
    return path_;
}

fs::path busybox_tarball(const fs::path& dir) {
    auto rootfs = dir / "busybox-rootfs";
    fs::create_directories(rootfs / "bin");
    fs::copy_file("/bin/busybox", rootfs / "bin/busybox");
    auto list = sdnet_test::run_process({"/bin/busybox", "--list"});
    std::istringstream applets(list.out);
    for (std::string name; std::getline(applets, name);) {
        if (!name.empty() && name != "busybox") {
            fs::create_symlink("busybox", rootfs / "bin" / name);
        }
    }
    auto tarball = dir / "busybox.tar.gz";
    auto tar =
        sdnet_test::run_process({"/bin/tar", "-C", rootfs.string(), "-czf", tarball.string(), "."});
    if (tar.status != 0) {
        throw std::runtime_error("tar failed: " + tar.err);
    }
    fs::remove_all(rootfs);
    return tarball;
}

Outcome sdrun(const fs::path& root, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {SDRUN_EXE, "--root", root.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return sdnet_test::run_process(argv);
}

std::string sha256sum(const fs::path& file) {
    auto r = sdnet_test::run_process({"/usr/bin/sha256sum", file.string()});
    return "sha256:" + r.out.substr(0, r.out.find(' '));
}

}  // namespace sdrun_test
