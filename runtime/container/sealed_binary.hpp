#pragma once

#include <filesystem>

#include "netlib/fd.hpp"

namespace sdrun {

// `file` on a detached, read-only clone of its mount, for executing inside the container
// (CVE-2019-5736: a container process that reaches the runtime binary through /proc/<pid>/exe
// must not be able to overwrite it). The clone is attached nowhere, so nothing in the container
// can remount it writable; writing through it fails with EROFS. Costs two syscalls, where a
// sealed memfd copy costs a copy of the binary. Throws sdrun::Error.
netlib::Fd open_sealed_binary(const std::filesystem::path& file);

}  // namespace sdrun
