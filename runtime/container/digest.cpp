#include "runtime/container/digest.hpp"

#include <fstream>
#include <openssl/evp.h>
#include <vector>

#include "runtime/container/error.hpp"

namespace sdrun {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}

Sha256::~Sha256() {
    EVP_MD_CTX_free(ctx_);
}

void Sha256::update(const void* data, std::size_t size) {
    EVP_DigestUpdate(ctx_, data, size);
}

std::string Sha256::finish() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    static const char* kHex = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned i = 0; i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 15];
    }
    return out;
}

std::string sha256_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error("cannot read " + file.string());
    }
    Sha256 hash;
    std::vector<char> buf(1 << 16);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
        hash.update(buf.data(), static_cast<size_t>(in.gcount()));
    }
    return hash.finish();
}

bool valid_digest(const std::string& digest) {
    constexpr std::size_t kPrefix = 7;  // "sha256:"
    if (digest.size() != kPrefix + 64 || digest.rfind("sha256:", 0) != 0) {
        return false;
    }
    return digest.find_first_not_of("0123456789abcdef", kPrefix) == std::string::npos;
}

std::string digest_hex(const std::string& digest, const std::string& what) {
    if (!valid_digest(digest)) {
        throw Error(what + ": unsupported digest \"" + digest + "\" (sha256:<64 hex> expected)");
    }
    return digest.substr(7);
}

void verify_blob(const std::filesystem::path& file, const std::string& digest,
                 const std::string& what) {
    auto actual = sha256_file(file);
    if (actual != digest) {
        throw Error(what + " does not match its digest: expected " + digest + ", content is " +
                    actual + "; nothing imported");
    }
}

}  // namespace sdrun
