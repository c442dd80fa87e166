#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

// sha256 digests ("sha256:<64 lowercase hex>") of files: what names blobs and layers.
namespace sdrun {

// A running sha256.
class Sha256 {
public:
    Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    ~Sha256();

    void update(const void* data, std::size_t size);
    // "sha256:<hex>" of everything given to update().
    std::string finish();

private:
    ::evp_md_ctx_st* ctx_;
};

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
