#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace netlib {

enum class Family : std::uint8_t { V4 = 4, V6 = 6 };

// AF_INET or AF_INET6 for a family.
int to_af(Family family) noexcept;

// An IPv4 or IPv6 address. Ordered by family, then numerically, so ranges can be walked.
class IpAddr {
public:
    IpAddr() noexcept = default;  // 0.0.0.0

    static IpAddr from_bytes(std::span<const std::uint8_t> bytes);  // 4 or 16 bytes
    // Parses "10.0.0.1" or "fd00::1"; throws InvalidInput naming the text.
    static IpAddr parse(std::string_view text);
    static std::optional<IpAddr> try_parse(std::string_view text) noexcept;

    Family family() const noexcept { return family_; }

    bool is_v4() const noexcept { return family_ == Family::V4; }

    int bit_len() const noexcept { return is_v4() ? 32 : 128; }

    std::span<const std::uint8_t> bytes() const noexcept;

    bool is_unspecified() const noexcept;
    bool is_loopback() const noexcept;
    bool is_multicast() const noexcept;

    // The numerically next/previous address of the same family, wrapping at the ends.
    IpAddr next() const noexcept;
    IpAddr prev() const noexcept;

    std::string to_string() const;

    auto operator<=>(const IpAddr&) const = default;

private:
    Family family_ = Family::V4;
    std::array<std::uint8_t, 16> bytes_{};  // v4 uses the first 4
};

// An address with a prefix length, "10.1.0.5/24". The address may carry host bits (an
// interface address); network() gives the canonical subnet.
class IpNet {
public:
    IpNet() noexcept = default;
    IpNet(IpAddr addr, int prefix);  // throws InvalidInput if prefix is out of range

    // Parses "a.b.c.d/n" or "x::y/n"; throws InvalidInput naming the text.
    static IpNet parse(std::string_view text);
    static std::optional<IpNet> try_parse(std::string_view text) noexcept;
    // A bare address becomes a host prefix (/32 or /128).
    static IpNet host(const IpAddr& addr);

    const IpAddr& addr() const noexcept { return addr_; }

    int prefix() const noexcept { return prefix_; }

    Family family() const noexcept { return addr_.family(); }

    IpNet network() const;      // host bits cleared
    IpAddr first() const;       // network address
    IpAddr last() const;        // all host bits set (IPv4 broadcast)
    bool is_canonical() const;  // no host bits
    bool contains(const IpAddr& a) const;
    bool overlaps(const IpNet& other) const;

    std::string to_string() const;

    auto operator<=>(const IpNet&) const = default;

private:
    IpAddr addr_;
    int prefix_ = 0;
};

// A 48-bit Ethernet address.
class MacAddr {
public:
    MacAddr() noexcept = default;

    explicit MacAddr(const std::array<std::uint8_t, 6>& bytes) noexcept : bytes_(bytes) {}

    // Parses "aa:bb:cc:dd:ee:ff" (also with '-'); throws InvalidInput.
    static MacAddr parse(std::string_view text);
    // A random locally administered unicast address.
    static MacAddr random();

    const std::array<std::uint8_t, 6>& bytes() const noexcept { return bytes_; }

    bool is_zero() const noexcept;
    std::string to_string() const;  // lower-case, colon separated

    auto operator<=>(const MacAddr&) const = default;

private:
    std::array<std::uint8_t, 6> bytes_{};
};

}  // namespace netlib
