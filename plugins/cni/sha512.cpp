#include "plugins/cni/sha512.hpp"

#include <algorithm>
#include <array>
#include <openssl/sha.h>

namespace cni {

std::string sha512_hex(std::string_view data, std::size_t bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::array<unsigned char, SHA512_DIGEST_LENGTH> digest{};
    // The one-shot SHA512(), not EVP: it needs no provider or configuration loading, which a
    // plugin would pay for at every start.
    SHA512(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
    std::string out;
    for (std::size_t i = 0; i < std::min(bytes, digest.size()); ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 15];
    }
    return out;
}

}  // namespace cni
