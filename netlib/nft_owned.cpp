#include "netlib/nft_owned.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <random>
#include <thread>

#include <unistd.h>

#include "netlib/error.hpp"

namespace netlib {
namespace {

// Each retry follows a concurrent change by another process (a chain created or deleted, an
// element added or removed). Even with processes adding and deleting in a tight loop a handful
// suffice (tests/nft: ConcurrentChurnOnASharedSubnet); the bound turns a livelock into an error.
constexpr int kAttempts = 16;
// A commit refused for a new ruleset generation lost to ANY transaction, related or not, that
// came in between its reads and its commit: frequent under churn, and cheap to repeat.
constexpr int kGenerationAttempts = 64;
constexpr std::size_t kMaxComment = 252;  // NFT_USERDATA_MAXLEN minus the comment TLV framing
constexpr std::size_t kNone = static_cast<std::size_t>(-1);

bool valid_field(std::string_view s) {
    return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) {
        return std::isspace(static_cast<unsigned char>(c)) ||
               std::iscntrl(static_cast<unsigned char>(c));
    });
}

enum class Action : std::uint8_t { Add, Replace, Skip };

// The state of nft_ensure_elements between attempts, and what each batch message stands for.
struct EnsurePlan {
    const NftSkeleton& skeleton;
    std::span<const NftSetElem> want;
    const NftOnTaken& on_taken;
    bool bootstrap = false;
    std::vector<bool> chain_exists;
    std::vector<Action> action;
    std::vector<NftEnsured> result;
    // The ruleset generation the inspections of the last attempt saw: a replacement is
    // committed only if nothing changed since, so it never deletes an element that got another
    // owner after on_taken approved the old one.
    std::optional<std::uint32_t> generation;
    // Message indexes of the current batch.
    std::vector<std::size_t> chain_msg, shared_msg, add_msg, del_msg;

    EnsurePlan(const NftSkeleton& s, std::span<const NftSetElem> w, const NftOnTaken& t)
        : skeleton(s),
          want(w),
          on_taken(t),
          chain_exists(s.chains.size(), false),
          action(w.size(), Action::Add),
          result(w.size(), NftEnsured::Added) {}

    NftBatch build();
    // The generation the next commit must still find, if it replaces anything.
    std::optional<std::uint32_t> precondition() const;
    // Adjusts the plan to a rejected batch. Throws an NftBatchError with just the failures it
    // cannot fix, so the error names the real problem rather than a side effect of it.
    void learn(NftSocket& sock, const NftBatchError& err);
    // Asks the kernel which skeleton chains exist, after something was reported missing.
    void probe_chains(NftSocket& sock);
    void inspect(NftSocket& sock, std::size_t i);
};

NftBatch EnsurePlan::build() {
    NftBatch batch;
    chain_msg.assign(skeleton.chains.size(), kNone);
    shared_msg.clear();
    add_msg.assign(want.size(), kNone);
    del_msg.assign(want.size(), kNone);
    if (bootstrap) {
        for (const auto& table : skeleton.tables) {
            batch.add_table(table, NftCreate::MayExist);
        }
        for (const auto& set : skeleton.sets) {
            batch.add_set(set, NftCreate::MayExist);
        }
        for (std::size_t i = 0; i < skeleton.chains.size(); ++i) {
            if (chain_exists[i]) {
                continue;
            }
            chain_msg[i] = batch.add_chain(skeleton.chains[i].chain, NftCreate::Exclusive);
            for (const auto& rule : skeleton.chains[i].rules) {
                batch.add_rule(rule);
            }
        }
    }
    for (const auto& s : skeleton.shared) {
        shared_msg.push_back(batch.add_elements(s.set, s.elems, NftCreate::MayExist));
    }
    for (std::size_t i = 0; i < want.size(); ++i) {
        const auto& w = want[i];
        if (action[i] == Action::Replace) {
            del_msg[i] = batch.del_elements(w.set, std::span(&w.elem, 1));
        }
        if (action[i] != Action::Skip) {
            add_msg[i] = batch.add_elements(w.set, std::span(&w.elem, 1), NftCreate::Exclusive);
        }
    }
    return batch;
}

std::optional<std::uint32_t> EnsurePlan::precondition() const {
    bool replaces = std::find(action.begin(), action.end(), Action::Replace) != action.end();
    return replaces ? generation : std::nullopt;
}

void EnsurePlan::inspect(NftSocket& sock, std::size_t i) {
    const auto& w = want[i];
    if (!generation) {
        generation = sock.generation();  // before the read, so any later change is noticed
    }
    auto cur = sock.get_element(w.set, w.elem.key);
    if (!cur) {
        action[i] = Action::Add;  // removed meanwhile
        result[i] = NftEnsured::Added;
    } else if (cur->verdict == w.elem.verdict && cur->data == w.elem.data &&
               cur->comment == w.elem.comment) {
        action[i] = Action::Skip;
        result[i] = NftEnsured::Unchanged;
    } else {
        if (on_taken) {
            on_taken(w, *cur);
        }
        action[i] = Action::Replace;
        result[i] = NftEnsured::Replaced;
    }
}

void EnsurePlan::probe_chains(NftSocket& sock) {
    for (std::size_t i = 0; i < skeleton.chains.size(); ++i) {
        chain_exists[i] = sock.has_chain(skeleton.chains[i].chain);
    }
}

void EnsurePlan::learn(NftSocket& sock, const NftBatchError& err) {
    // A replacement was approved at a generation that is gone now: add again, so the EEXIST
    // leads to a fresh inspection.
    generation.reset();
    for (std::size_t i = 0; i < want.size(); ++i) {
        if (action[i] == Action::Replace) {
            action[i] = Action::Add;
            result[i] = NftEnsured::Added;
        }
    }
    if (nft_generation_changed(err)) {
        return;
    }
    bool missing = false;
    std::vector<NftFailure> fatal;
    for (const auto& f : err.failures()) {
        auto chain = std::find(chain_msg.begin(), chain_msg.end(), f.index);
        auto add = std::find(add_msg.begin(), add_msg.end(), f.index);
        auto del = std::find(del_msg.begin(), del_msg.end(), f.index);
        bool shared = std::find(shared_msg.begin(), shared_msg.end(), f.index) != shared_msg.end();
        if (f.index == kNftWholeBatch) {
            throw err;
        }
        if (chain != chain_msg.end() && f.code == EEXIST) {
            chain_exists[static_cast<std::size_t>(chain - chain_msg.begin())] = true;
        } else if ((add != add_msg.end() || shared) && f.code == ENOENT) {
            // A table, set or jump target is missing, e.g. a subnet chain deleted by the DEL of
            // its last user: (re)create what is missing.
            missing = true;
        } else if (add != add_msg.end() && f.code == EEXIST) {
            inspect(sock, static_cast<std::size_t>(add - add_msg.begin()));
        } else if (del != del_msg.end() && f.code == ENOENT) {
            auto i = static_cast<std::size_t>(del - del_msg.begin());
            action[i] = Action::Add;
            result[i] = NftEnsured::Added;
        } else {
            fatal.push_back(f);
        }
    }
    if (!fatal.empty()) {
        throw NftBatchError(std::move(fatal));
    }
    if (missing) {
        bootstrap = true;
        probe_chains(sock);
    }
}

// Spreads out processes that keep colliding: a random pause that grows with the attempt.
void back_off(int attempt) {
    attempt = std::min(attempt, kAttempts);
    static thread_local std::minstd_rand rng(
        static_cast<std::uint_fast32_t>(getpid()) ^
        static_cast<std::uint_fast32_t>(
            std::chrono::steady_clock::now().time_since_epoch().count()));
    if (attempt > 0) {
        std::uniform_int_distribution<int> us(0, 250 * attempt);
        std::this_thread::sleep_for(std::chrono::microseconds(us(rng)));
    }
}

// A removal met a concurrent change: an element was deleted (ENOENT) or something changed
// after the elements were read (a new generation). Reading them again sorts it out.
bool changed_meanwhile(const NftBatchError& err) {
    return nft_generation_changed(err) ||
           std::all_of(err.failures().begin(), err.failures().end(),
                       [](const NftFailure& f) { return f.code == ENOENT; });
}

// The retry budget of one operation: bounded, so that a livelock becomes an error.
class Attempts {
public:
    // Counts the failure `err`; false once its kind's budget is spent.
    bool retry(const NftBatchError& err) {
        return nft_generation_changed(err) ? ++generations_ < kGenerationAttempts
                                           : ++others_ < kAttempts;
    }

    // Pauses before the next attempt.
    void back_off() const { netlib::back_off(generations_ + others_); }

private:
    int generations_ = 0;
    int others_ = 0;
};

}  // namespace

void NftOwner::validate(std::string_view op) const {
    auto fail = [&](std::string_view why) { throw InvalidInput(op, to_string(), why); };
    if (!valid_field(network)) {
        fail("network name is empty or contains whitespace");
    }
    if (!valid_field(container_id)) {
        fail("container id is empty or contains whitespace");
    }
    if (!valid_field(ifname)) {
        fail("ifname is empty or contains whitespace");
    }
    if (comment().size() > kMaxComment) {
        fail("network name, container id and ifname are too long for an nftables comment");
    }
}

std::string NftOwner::comment() const {
    return "sdnet net=" + network + " cid=" + container_id + " if=" + ifname;
}

std::optional<NftOwner> NftOwner::parse(std::string_view comment) {
    constexpr std::string_view kPrefixes[] = {"net=", "cid=", "if="};
    constexpr std::string_view kTag = "sdnet ";
    if (!comment.starts_with(kTag)) {
        return std::nullopt;
    }
    comment.remove_prefix(kTag.size());
    std::string fields[3];
    for (std::size_t i = 0; i < 3; ++i) {
        auto token = comment.substr(0, comment.find(' '));
        if (!token.starts_with(kPrefixes[i]) || token.size() == kPrefixes[i].size()) {
            return std::nullopt;
        }
        fields[i] = token.substr(kPrefixes[i].size());
        comment.remove_prefix(std::min(comment.size(), token.size() + 1));
    }
    if (!comment.empty()) {
        return std::nullopt;
    }
    return NftOwner{fields[0], fields[1], fields[2]};
}

std::string NftOwner::to_string() const {
    return network + '/' + container_id + '/' + ifname;
}

bool nft_is_stale(const NftElem& e, std::string_view network,
                  const std::set<std::pair<std::string, std::string>>& valid, NftIdOnly id_only) {
    auto owner = NftOwner::parse(e.comment);
    return owner && owner->network == network &&
           !valid.contains({owner->container_id, owner->ifname}) &&
           !(id_only == NftIdOnly::KeepsContainer && valid.contains({owner->container_id, ""}));
}

std::vector<NftEnsured> nft_ensure_elements(NftSocket& sock, const NftSkeleton& skeleton,
                                            std::span<const NftSetElem> want,
                                            const NftOnTaken& on_taken) {
    EnsurePlan plan(skeleton, want, on_taken);
    for (Attempts attempts;; attempts.back_off()) {
        auto batch = plan.build();
        try {
            sock.commit(batch, plan.precondition());
            return plan.result;
        } catch (const NftBatchError& err) {
            if (!attempts.retry(err)) {
                throw;
            }
            plan.learn(sock, err);
        }
    }
}

std::vector<NftSetElem> nft_remove_elements_if(NftSocket& sock, std::span<const NftSetElem> keys,
                                               const std::function<bool(const NftElem&)>& pred) {
    for (Attempts attempts;; attempts.back_off()) {
        // The elements are deleted by key: only if nothing changed since they were read is the
        // deleted element the one `pred` approved (and not a replacement with another owner).
        auto generation = sock.generation();
        NftBatch batch;
        std::vector<NftSetElem> removed;
        for (const auto& k : keys) {
            auto cur = sock.get_element(k.set, k.elem.key);
            if (cur && pred(*cur)) {
                batch.del_elements(k.set, std::span(&*cur, 1));
                removed.push_back({k.set, std::move(*cur)});
            }
        }
        try {
            sock.commit(batch, generation);
            return removed;
        } catch (const NftBatchError& err) {
            if (!changed_meanwhile(err) || !attempts.retry(err)) {
                throw;
            }
        }
    }
}

std::vector<NftSetElem> nft_remove_all_if(NftSocket& sock, std::span<const NftSet> sets,
                                          const std::function<bool(const NftElem&)>& pred) {
    for (Attempts attempts;; attempts.back_off()) {
        auto generation = sock.generation();  // as in nft_remove_elements_if
        NftBatch batch;
        std::vector<NftSetElem> removed;
        for (const auto& set : sets) {
            std::vector<NftElem> doomed;
            for (auto& elem : sock.list_elements(set).value_or(std::vector<NftElem>{})) {
                if (pred(elem)) {
                    doomed.push_back(std::move(elem));
                }
            }
            if (!doomed.empty()) {
                batch.del_elements(set, doomed);
            }
            for (auto& elem : doomed) {
                removed.push_back({set, std::move(elem)});
            }
        }
        try {
            sock.commit(batch, generation);
            return removed;
        } catch (const NftBatchError& err) {
            if (!changed_meanwhile(err) || !attempts.retry(err)) {
                throw;
            }
        }
    }
}

bool nft_delete_chain_if_unused(NftSocket& sock, const NftChain& chain) {
    NftBatch batch;
    batch.del_chain(chain);
    try {
        sock.commit(batch);
        return true;
    } catch (const NftBatchError& err) {
        // EBUSY: still referenced; ENOENT: already gone.
        const auto& f = err.failures().front();
        if (err.failures().size() == 1 && (f.code == EBUSY || f.code == ENOENT)) {
            return false;
        }
        throw;
    }
}

}  // namespace netlib
