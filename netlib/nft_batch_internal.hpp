#pragma once

// Private to netlib: the storage of NftBatch, shared by nft_batch.cpp (which fills it) and
// nft_socket.cpp (which frames and sends it).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <linux/netlink.h>

#include "netlib/nft.hpp"

namespace netlib {

struct NftBatch::Impl {
    // One add/del call; may span several messages (large element lists).
    struct Op {
        std::string op;
        std::string object;
    };

    struct Msg {
        std::size_t offset = 0;  // into buf
        std::size_t len = 0;     // aligned length
        std::size_t op = 0;      // index into ops
    };

    std::vector<char> buf;  // the messages back to back, each with sequence number 0
    std::vector<Op> ops;
    std::vector<Msg> msgs;

    // Starts the operation the next messages belong to; returns its index.
    std::size_t begin_op(std::string op, std::string object);
    // Reserves `bound` bytes and writes a header; the caller appends the payload, then finish().
    nlmsghdr* start(std::uint16_t type, NftFamily family, std::uint16_t flags, std::size_t bound);
    void finish(const nlmsghdr* nlh);
    // A whole operation made of one message.
    std::size_t single(std::uint16_t type, NftFamily family, std::uint16_t flags, std::size_t bound,
                       std::string op, std::string object,
                       const std::function<void(nlmsghdr*)>& payload);
    // Element messages for `elems`, split so no element list nest reaches netlink's 64 KiB
    // attribute limit.
    void elements(std::uint16_t type, const NftSet& set, const std::vector<NftElem>& elems,
                  std::uint16_t flags, bool keys_only);
};

}  // namespace netlib
