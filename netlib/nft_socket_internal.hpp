#pragma once

// Private to netlib: the state of NftSocket and its reply bookkeeping, shared by nft_socket.cpp
// (socket, transactions) and nft_query.cpp (reading objects back).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <libmnl/libmnl.h>

#include "netlib/c_ptr.hpp"
#include "netlib/nft.hpp"

namespace netlib {
namespace nft_detail {

using MnlPtr = CPtr<mnl_socket, &mnl_socket_close>;

inline constexpr std::size_t kRecvBufSize =
    std::size_t{64} * 1024;  // netlink dump chunks are <= ~32 KiB

struct Ack {
    std::uint32_t seq = 0;
    int code = 0;  // positive errno, 0 for success
    std::string detail;
};

// Replies to messages with sequence numbers lo..hi; others are stale and ignored.
struct Replies {
    std::uint32_t lo = 0;
    std::uint32_t hi = 0;
    std::vector<Ack> acks;  // NLMSG_ERROR (acks and errors) and NLMSG_DONE
    std::function<void(const nlmsghdr*)> on_data;
    bool interrupted = false;  // a dump part carried NLM_F_DUMP_INTR
    // The sent message with sequence number seq, to name the attribute an ext-ack points at.
    std::function<std::span<const char>(std::uint32_t seq)> sent;

    bool wanted(std::uint32_t seq) const noexcept { return seq >= lo && seq <= hi; }
};

}  // namespace nft_detail

struct NftSocket::Impl {
    nft_detail::MnlPtr nl;
    std::uint32_t portid = 0;
    std::uint32_t seq = 0;
    int sndbuf = 0;
    std::vector<char> rbuf = std::vector<char>(nft_detail::kRecvBufSize);

    int fd() const noexcept { return mnl_socket_get_fd(nl.get()); }

    void ensure_sndbuf(std::size_t len);
    // Reads one datagram from the kernel into rbuf.
    std::size_t recv_one(const std::string& object);
    // Runs the callbacks over one datagram.
    void dispatch(std::size_t len, nft_detail::Replies& replies, const std::string& object);
    // Sends one request (not a batch) and collects replies until its ack or NLMSG_DONE.
    nft_detail::Ack request(std::vector<char>& msg, const std::string& op,
                            const std::string& object,
                            std::function<void(const nlmsghdr*)> on_data);
    std::vector<char> build(std::uint16_t type, NftFamily family, std::uint16_t flags,
                            std::size_t bound, const std::function<void(nlmsghdr*)>& payload);
};

}  // namespace netlib
