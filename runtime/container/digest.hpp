#pragma once

#include <filesystem>
#include <string>

// sha256 digests ("sha256:<64 lowercase hex>") of files: what names blobs and layers.
namespace sdrun {

// "sha256:<hex>" of a file's content.
std::string sha256_file(const std::filesystem::path& file);

// A digest this store can use as a name: "sha256:" and 64 lowercase hex digits. Anything else
// (another algorithm, "sha256:../x") is refused before it becomes part of a path.
bool valid_digest(const std::string& digest);

// The hex part of a valid digest; throws sdrun::Error naming `what` otherwise.
std::string digest_hex(const std::string& digest, const std::string& what);

// Throws sdrun::Error unless `file` hashes to `digest`: the one-line message names `what`,
// both digests and says nothing was stored.
void verify_blob(const std::filesystem::path& file, const std::string& digest,
                 const std::string& what);

}  // namespace sdrun
