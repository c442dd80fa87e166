#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cni {

// Lower-case hex of the first `bytes` bytes of SHA-512(data). CNI names things by this hash:
// the reference bandwidth plugin its ifb devices ("bwp" + 6 bytes), cnitool the container id of
// an attachment ("cnitool-" + 10 bytes of the netns path); sdnet must produce the same names.
std::string sha512_hex(std::string_view data, std::size_t bytes = 64);

}  // namespace cni
