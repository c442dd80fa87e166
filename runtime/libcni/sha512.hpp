#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace libcni {

// SHA-512 (FIPS 180-4). Here only to derive the container id of an attachment exactly as
// cnitool does, so `sdnet` and `cnitool` agree on who owns an attachment.
std::array<std::uint8_t, 64> sha512(std::string_view data);

// Lower-case hex of the first `bytes` bytes of sha512(data).
std::string sha512_hex(std::string_view data, std::size_t bytes = 64);

}  // namespace libcni
