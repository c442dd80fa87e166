#include "netlib/ip.hpp"

#include <charconv>
#include <cstdio>
#include <stdexcept>

#include <arpa/inet.h>
#include <sys/random.h>

#include "netlib/error.hpp"

namespace netlib {
namespace {

InvalidInput bad(std::string_view what, std::string_view text) {
    return InvalidInput(std::string{what} + " \"" + std::string{text} + "\"");
}

// Sets bits [prefix, bit_len) of `bytes` to `ones` (true) or zero.
void fill_host_bits(std::span<std::uint8_t> bytes, int prefix, bool ones) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        int bit0 = static_cast<int>(i) * 8;
        int keep = prefix - bit0;  // bits of this byte that belong to the network
        if (keep >= 8) {
            continue;
        }
        unsigned net_mask = keep <= 0 ? 0u : (0xffu << static_cast<unsigned>(8 - keep)) & 0xffu;
        bytes[i] = static_cast<std::uint8_t>(ones ? (bytes[i] | ~net_mask) : (bytes[i] & net_mask));
    }
}

}  // namespace

int to_af(Family family) noexcept {
    return family == Family::V4 ? AF_INET : AF_INET6;
}

IpAddr IpAddr::from_bytes(std::span<const std::uint8_t> bytes) {
    if (bytes.size() != 4 && bytes.size() != 16) {
        throw InvalidInput("IP address must have 4 or 16 bytes");
    }
    IpAddr a;
    a.family_ = bytes.size() == 4 ? Family::V4 : Family::V6;
    std::copy(bytes.begin(), bytes.end(), a.bytes_.begin());
    return a;
}

std::optional<IpAddr> IpAddr::try_parse(std::string_view text) noexcept {
    char buf[INET6_ADDRSTRLEN + 1];
    if (text.empty() || text.size() >= sizeof buf) {
        return std::nullopt;
    }
    text.copy(buf, text.size());
    buf[text.size()] = '\0';
    IpAddr a;
    bool v6 = text.find(':') != std::string_view::npos;
    a.family_ = v6 ? Family::V6 : Family::V4;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, a.bytes_.data()) != 1) {
        return std::nullopt;
    }
    return a;
}

IpAddr IpAddr::parse(std::string_view text) {
    auto a = try_parse(text);
    if (!a) {
        throw bad("invalid IP address", text);
    }
    return *a;
}

std::span<const std::uint8_t> IpAddr::bytes() const noexcept {
    return {bytes_.data(), is_v4() ? 4u : 16u};
}

bool IpAddr::is_unspecified() const noexcept {
    for (auto b : bytes()) {
        if (b != 0) {
            return false;
        }
    }
    return true;
}

bool IpAddr::is_loopback() const noexcept {
    if (is_v4()) {
        return bytes_[0] == 127;
    }
    auto b = bytes();
    for (std::size_t i = 0; i < 15; ++i) {
        if (b[i] != 0) {
            return false;
        }
    }
    return b[15] == 1;
}

bool IpAddr::is_multicast() const noexcept {
    return is_v4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

IpAddr IpAddr::next() const noexcept {
    IpAddr a = *this;
    for (std::size_t i = bytes().size(); i-- > 0;) {
        if (++a.bytes_[i] != 0) {
            break;
        }
    }
    return a;
}

IpAddr IpAddr::prev() const noexcept {
    IpAddr a = *this;
    for (std::size_t i = bytes().size(); i-- > 0;) {
        if (a.bytes_[i]-- != 0) {
            break;
        }
    }
    return a;
}

std::string IpAddr::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(to_af(family_), bytes_.data(), buf, sizeof buf);
    return buf;
}

IpNet::IpNet(IpAddr addr, int prefix) : addr_(addr), prefix_(prefix) {
    if (prefix < 0 || prefix > addr.bit_len()) {
        throw InvalidInput("prefix length " + std::to_string(prefix) + " out of range for " +
                           addr.to_string());
    }
}

std::optional<IpNet> IpNet::try_parse(std::string_view text) noexcept {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    auto addr = IpAddr::try_parse(text.substr(0, slash));
    auto len = text.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
    if (!addr || len.empty() || ec != std::errc{} || end != len.data() + len.size() || prefix < 0 ||
        prefix > addr->bit_len()) {
        return std::nullopt;
    }
    IpNet n;
    n.addr_ = *addr;
    n.prefix_ = prefix;
    return n;
}

IpNet IpNet::parse(std::string_view text) {
    auto n = try_parse(text);
    if (!n) {
        throw bad("invalid CIDR", text);
    }
    return *n;
}

IpNet IpNet::host(const IpAddr& addr) {
    return IpNet{addr, addr.bit_len()};
}

IpNet IpNet::network() const {
    IpNet n = *this;
    n.addr_ = first();
    return n;
}

IpAddr IpNet::first() const {
    std::array<std::uint8_t, 16> b{};
    auto src = addr_.bytes();
    std::copy(src.begin(), src.end(), b.begin());
    fill_host_bits({b.data(), src.size()}, prefix_, false);
    return IpAddr::from_bytes({b.data(), src.size()});
}

IpAddr IpNet::last() const {
    std::array<std::uint8_t, 16> b{};
    auto src = addr_.bytes();
    std::copy(src.begin(), src.end(), b.begin());
    fill_host_bits({b.data(), src.size()}, prefix_, true);
    return IpAddr::from_bytes({b.data(), src.size()});
}

bool IpNet::is_canonical() const {
    return first() == addr_;
}

bool IpNet::contains(const IpAddr& a) const {
    return a.family() == family() && first() <= a && a <= last();
}

bool IpNet::overlaps(const IpNet& other) const {
    return other.family() == family() && first() <= other.last() && other.first() <= last();
}

std::string IpNet::to_string() const {
    return addr_.to_string() + '/' + std::to_string(prefix_);
}

MacAddr MacAddr::parse(std::string_view text) {
    std::array<std::uint8_t, 6> b{};
    if (text.size() != 17) {
        throw bad("invalid MAC address", text);
    }
    for (std::size_t i = 0; i < 6; ++i) {
        auto part = text.substr(i * 3, 2);
        auto [end, ec] = std::from_chars(part.data(), part.data() + 2, b[i], 16);
        char sep = i < 5 ? text[i * 3 + 2] : ':';
        if (ec != std::errc{} || end != part.data() + 2 || (sep != ':' && sep != '-')) {
            throw bad("invalid MAC address", text);
        }
    }
    return MacAddr{b};
}

MacAddr MacAddr::random() {
    std::array<std::uint8_t, 6> b{};
    if (getrandom(b.data(), b.size(), 0) != static_cast<ssize_t>(b.size())) {
        throw std::runtime_error("getrandom failed");
    }
    b[0] = static_cast<std::uint8_t>((b[0] & 0xfe) | 0x02);  // unicast, locally administered
    return MacAddr{b};
}

bool MacAddr::is_zero() const noexcept {
    for (auto x : bytes_) {
        if (x != 0) {
            return false;
        }
    }
    return true;
}

std::string MacAddr::to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes_[0], bytes_[1], bytes_[2],
                  bytes_[3], bytes_[4], bytes_[5]);
    return buf;
}

}  // namespace netlib
