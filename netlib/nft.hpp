#pragma once

// The generic nftables layer: NftBatch collects table/chain/set/element/rule changes as
// netlink messages, NftSocket sends one batch as a single nfnetlink transaction (the kernel
// applies all of it or none of it) and reads objects back. Built over libmnl and libnftnl,
// which stay private to netlib.
//
// Acts in the network namespace the NftSocket was created in. Errors are netlib::Error; a
// rejected batch throws NftBatchError, which says which messages failed and why, e.g.
// "NFT_MSG_NEWCHAIN inet sdnet_masq postrouting: File exists".

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "netlib/error.hpp"
#include "netlib/nft_rule.hpp"

namespace netlib {

// How a NEW message treats an existing object: MayExist (NLM_F_CREATE) succeeds silently if an
// identical object exists; Exclusive (NLM_F_CREATE | NLM_F_EXCL) fails with EEXIST.
enum class NftCreate : std::uint8_t { MayExist, Exclusive };

// The operations of one transaction, in order. Every add/del returns the operation's index,
// which NftBatchError::failures() refers to. An operation is one netlink message, except long
// element lists, which are split (a netlink attribute holds at most 64 KiB). Building needs no
// socket and makes no syscalls; names are checked by the kernel at commit.
class NftBatch {
public:
    NftBatch();
    ~NftBatch();
    NftBatch(NftBatch&&) noexcept;
    NftBatch& operator=(NftBatch&&) noexcept;
    NftBatch(const NftBatch&) = delete;
    NftBatch& operator=(const NftBatch&) = delete;

    std::size_t add_table(const NftTableRef& table, NftCreate create);
    std::size_t del_table(const NftTableRef& table);
    std::size_t add_chain(const NftChain& chain, NftCreate create);
    // Fails with EBUSY while rules or map elements still jump to the chain; its own rules go
    // with it.
    std::size_t del_chain(const NftChain& chain);
    std::size_t add_set(const NftSet& set, NftCreate create);
    std::size_t del_set(const NftSet& set);
    // Adding an element whose key exists: MayExist succeeds if its data is equal (the stored
    // comment is kept), Exclusive fails with EEXIST; so does an interval overlapping another.
    std::size_t add_elements(const NftSet& set, std::span<const NftElem> elems, NftCreate create);
    // Matches by key only; fails with ENOENT if any is absent.
    std::size_t del_elements(const NftSet& set, std::span<const NftElem> elems);
    // Appends the rule at the end of its chain.
    std::size_t add_rule(const NftRule& rule);
    std::size_t del_rule(const NftTableRef& table, const std::string& chain, std::uint64_t handle);

    std::size_t size() const noexcept;

    bool empty() const noexcept { return size() == 0; }

    // "NFT_MSG_NEWCHAIN" and "inet sdnet_masq postrouting" for operation `index`.
    const std::string& op(std::size_t index) const;
    const std::string& object(std::size_t index) const;

private:
    friend class NftSocket;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One rejected message of a batch. `index` is NftBatch's operation index, or kNftWholeBatch
// when the kernel rejected the transaction as a whole (no permission, commit failure).
inline constexpr std::size_t kNftWholeBatch = static_cast<std::size_t>(-1);

struct NftFailure {
    std::size_t index = kNftWholeBatch;
    int code = 0;        // positive errno
    std::string op;      // NFT_MSG_NEWSETELEM
    std::string object;  // inet sdnet_masq masq4 element 10.0.0.2
    std::string detail;  // the kernel's extended ack, if any
};

// A batch was rejected, so nothing of it was applied. what() describes the first failure.
class NftBatchError : public Error {
public:
    explicit NftBatchError(std::vector<NftFailure> failures);

    const std::vector<NftFailure>& failures() const noexcept { return failures_; }

    // The (first) failure of operation `index`, if it failed.
    const NftFailure* find(std::size_t index) const noexcept;

private:
    std::vector<NftFailure> failures_;
};

// True if `err` is a commit refused because the ruleset generation moved on (ERESTART).
[[nodiscard]] bool nft_generation_changed(const NftBatchError& err) noexcept;

// A netlink socket on NETLINK_NETFILTER, bound in the calling thread's network namespace
// (it stays in that namespace when the thread moves on). Move-only.
class NftSocket {
public:
    // Throws Error("socket NETLINK_NETFILTER") if netlink is unavailable; on a kernel built
    // without nftables (EPROTONOSUPPORT) its message says so.
    NftSocket();
    // For DEL and GC: nullopt on a kernel without nftables, which then holds no nftables state
    // to remove. Other errors throw as above.
    [[nodiscard]] static std::optional<NftSocket> if_kernel_has_nftables();
    ~NftSocket();
    NftSocket(NftSocket&&) noexcept;
    NftSocket& operator=(NftSocket&&) noexcept;
    NftSocket(const NftSocket&) = delete;
    NftSocket& operator=(const NftSocket&) = delete;

    // Sends `batch` as one transaction and waits for the kernel's verdict. Throws NftBatchError
    // listing every failed message; then nothing was applied. An empty batch is a no-op.
    // With `generation` (from generation()), the kernel applies the batch only if no other
    // transaction was committed since: a compare-and-swap over what was read in between.
    // Otherwise it throws an NftBatchError for which nft_generation_changed() is true.
    void commit(const NftBatch& batch, std::optional<std::uint32_t> generation = std::nullopt);

    // The ruleset generation (NFT_MSG_GETGEN), which every committed transaction advances.
    [[nodiscard]] std::uint32_t generation();

    // All elements of a set, or nullopt when the set (or its table) does not exist. Retries a
    // dump that the kernel reports as interrupted by a concurrent change.
    [[nodiscard]] std::optional<std::vector<NftElem>> list_elements(const NftSet& set);
    // The element with exactly this key, or nullopt if it (or the set) does not exist.
    [[nodiscard]] std::optional<NftElem> get_element(const NftSet& set, const NftBytes& key);
    // Whether the chain exists.
    [[nodiscard]] bool has_chain(const NftChain& chain);

private:
    static std::vector<char> frame(const NftBatch& batch, std::uint32_t begin,
                                   std::optional<std::uint32_t> generation);

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace netlib
