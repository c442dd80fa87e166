#include "runtime/libcni/sha512.hpp"

#include <algorithm>

namespace libcni {
namespace {

constexpr std::array<std::uint64_t, 80> kRound = {
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
    0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
    0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
    0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
    0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
    0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
    0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
    0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
    0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
    0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
    0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817};

constexpr std::array<std::uint64_t, 8> kInit = {
    0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
    0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179};

constexpr std::uint64_t rotr(std::uint64_t x, int n) {
    return (x >> n) | (x << (64 - n));
}

void compress(std::array<std::uint64_t, 8>& h, const std::uint8_t* block) {
    std::array<std::uint64_t, 80> w{};
    for (std::size_t i = 0; i < 16; ++i) {
        for (std::size_t b = 0; b < 8; ++b) {
            w[i] = (w[i] << 8) | block[i * 8 + b];
        }
    }
    for (std::size_t i = 16; i < 80; ++i) {
        std::uint64_t s0 = rotr(w[i - 15], 1) ^ rotr(w[i - 15], 8) ^ (w[i - 15] >> 7);
        std::uint64_t s1 = rotr(w[i - 2], 19) ^ rotr(w[i - 2], 61) ^ (w[i - 2] >> 6);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    auto v = h;  // a..h
    for (std::size_t i = 0; i < 80; ++i) {
        std::uint64_t s1 = rotr(v[4], 14) ^ rotr(v[4], 18) ^ rotr(v[4], 41);
        std::uint64_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
        std::uint64_t t1 = v[7] + s1 + ch + kRound[i] + w[i];
        std::uint64_t s0 = rotr(v[0], 28) ^ rotr(v[0], 34) ^ rotr(v[0], 39);
        std::uint64_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
        std::uint64_t t2 = s0 + maj;
        std::rotate(v.rbegin(), v.rbegin() + 1, v.rend());  // h=g, g=f, ..., b=a
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (std::size_t i = 0; i < 8; ++i) {
        h[i] += v[i];
    }
}

}  // namespace

std::array<std::uint8_t, 64> sha512(std::string_view data) {
    auto h = kInit;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
    std::size_t full = data.size() / 128 * 128;
    for (std::size_t off = 0; off < full; off += 128) {
        compress(h, bytes + off);
    }
    // Padding: 0x80, zeros, then the message length in bits as a 128-bit big-endian number.
    std::array<std::uint8_t, 256> tail{};
    std::size_t rest = data.size() - full;
    std::copy(bytes + full, bytes + data.size(), tail.begin());
    tail[rest] = 0x80;
    std::size_t tail_len = rest + 1 + 16 <= 128 ? 128 : 256;
    std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
    for (std::size_t i = 0; i < 8; ++i) {
        tail[tail_len - 1 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
    }
    for (std::size_t off = 0; off < tail_len; off += 128) {
        compress(h, tail.data() + off);
    }
    std::array<std::uint8_t, 64> out{};
    for (std::size_t i = 0; i < 64; ++i) {
        out[i] = static_cast<std::uint8_t>(h[i / 8] >> (56 - 8 * (i % 8)));
    }
    return out;
}

std::string sha512_hex(std::string_view data, std::size_t bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    auto digest = sha512(data);
    std::string out;
    for (std::size_t i = 0; i < std::min<std::size_t>(bytes, digest.size()); ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 15];
    }
    return out;
}

}  // namespace libcni
