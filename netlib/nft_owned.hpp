#pragma once

// Owner-tagged set elements over a static ruleset: the pattern every sdnet nftables feature
// (masquerade, MAC spoof check, later port mappings) is built on.
//
// A feature's rules never change per container. Its tables, sets and chains (the "skeleton")
// are created once, by whichever process needs them first; a container is then a handful of set
// or map elements, each carrying its owner (network, container id, ifname) as its comment.
// So ADD and DEL cost the same with 10 or 10,000 containers, and DEL/GC remove exactly their own
// elements.
//
// Concurrency (several CNI processes, no lock): tables and sets are created with NLM_F_CREATE,
// which succeeds when an identical one exists. Rules cannot be created idempotently (each
// NEWRULE appends another copy), so every chain is created with NLM_F_EXCL in the same
// transaction as its rules: a chain exists exactly when its rules do, and a process that loses
// the race gets EEXIST for the chain, drops it from its batch and retries. Elements are added
// with NLM_F_EXCL too, so an existing element is noticed: equal data and owner means done,
// anything else (a stale element of an earlier owner of the same address) is replaced in one
// transaction (last writer wins).
//
// Elements are deleted by key (the kernel compares nothing else), so every read-then-delete
// (removal by owner, replacement after on_taken approved the holder) commits with the ruleset
// generation it read at (NftSocket::commit): if any transaction came in between, e.g. one that
// gave the key another owner, nothing is deleted and the elements are read again.

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netlib/nft.hpp"

namespace netlib {

// The CNI attachment an element belongs to. Stored as the element comment
// "sdnet net=<network> cid=<container id> if=<ifname>".
struct NftOwner {
    std::string network;
    std::string container_id;
    std::string ifname;

    // Throws InvalidInput(op, ...) if a field is empty or holds whitespace or control
    // characters, or if the comment would not fit the kernel's 256-byte userdata.
    void validate(std::string_view op) const;
    std::string comment() const;
    // nullopt if `comment` is not an sdnet owner tag.
    static std::optional<NftOwner> parse(std::string_view comment);
    // "<network>/<container id>/<ifname>", for messages.
    std::string to_string() const;

    auto operator<=>(const NftOwner&) const = default;
};

struct NftChainSpec {
    NftChain chain;
    std::vector<NftRule> rules;
};

struct NftSetElem {
    NftSet set;
    NftElem elem;
};

struct NftSetElems {
    NftSet set;
    std::vector<NftElem> elems;
};

// The static part of a feature's ruleset. Chains come in dependency order (jump targets
// before the chains whose rules jump to them). `shared` elements belong to no container (e.g.
// a subnet's entry in a verdict map): they go into every attempt with NLM_F_CREATE, since the
// owned elements being accepted says nothing about them.
struct NftSkeleton {
    std::vector<NftTableRef> tables;
    std::vector<NftSet> sets;
    std::vector<NftChainSpec> chains;
    std::vector<NftSetElems> shared;
};

enum class NftEnsured : std::uint8_t {
    Added,      // the key was absent
    Unchanged,  // an equal element (data and comment) was there
    Replaced,   // an element with other data or another comment was replaced
};

// Called when the key of `want` is held by a different element (other data or another owner),
// before that element is replaced; throwing refuses the replacement and fails the whole call
// with nothing applied (e.g. a host port published by another container).
using NftOnTaken = std::function<void(const NftSetElem& want, const NftElem& existing)>;

// Makes every element of `want` present with exactly its data and comment, in one transaction
// per attempt. Creates the skeleton, or whatever part of it is missing, when the kernel reports
// it missing. Throws NftBatchError or Error (or what `on_taken` throws); returns what happened
// per element.
std::vector<NftEnsured> nft_ensure_elements(NftSocket& sock, const NftSkeleton& skeleton,
                                            std::span<const NftSetElem> want,
                                            const NftOnTaken& on_taken = {});

// Deletes, in one transaction, those elements with the keys of `keys` that exist and satisfy
// `pred` (which sees the element as stored, comment included); an element replaced after `pred`
// saw it is not deleted, but judged again. Returns them as they were.
// Cost is per key, not per set size. Absent keys and sets are not an error.
std::vector<NftSetElem> nft_remove_elements_if(NftSocket& sock, std::span<const NftSetElem> keys,
                                               const std::function<bool(const NftElem&)>& pred);

// Lists `sets` and deletes every element satisfying `pred`, in one transaction, with the same
// guarantee as nft_remove_elements_if. Cost is
// proportional to the sets' size: for GC, and for DEL when the keys are unknown.
std::vector<NftSetElem> nft_remove_all_if(NftSocket& sock, std::span<const NftSet> sets,
                                          const std::function<bool(const NftElem&)>& pred);

// How GC reads a (container id, "") entry of its valid attachments.
enum class NftIdOnly : std::uint8_t {
    Exact,           // as any other entry: it matches no element, since every owner has an ifname
    KeepsContainer,  // it keeps every ifname of that container (legacy id-only lists)
};

// GC's rule for owner-tagged elements: true if `e` belongs to an attachment of `network` that
// is not in `valid` (container id, ifname pairs, from cni.dev/valid-attachments). Elements
// without an sdnet owner tag and those of other networks are never stale.
[[nodiscard]] bool nft_is_stale(const NftElem& e, std::string_view network,
                                const std::set<std::pair<std::string, std::string>>& valid,
                                NftIdOnly id_only = NftIdOnly::Exact);

// Deletes a regular chain (and its rules) unless rules or map elements still jump to it; the
// kernel checks the references atomically. True if it was deleted.
bool nft_delete_chain_if_unused(NftSocket& sock, const NftChain& chain);

}  // namespace netlib
