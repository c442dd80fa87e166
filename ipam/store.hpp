#pragma once

#include <compare>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "netlib/ip.hpp"

namespace ipam {

// Who holds a reservation: CNI_CONTAINERID and CNI_IFNAME. An empty ifname is the reference's
// legacy format (files holding only the container id, written before ifnames were recorded).
struct Attachment {
    std::string container_id;
    std::string ifname;

    Attachment legacy() const { return {container_id, {}}; }

    auto operator<=>(const Attachment&) const = default;
};

struct Reservation {
    netlib::IpAddr ip;
    // nullopt when the file is empty or unreadable: the debris of a writer that crashed (the
    // reference creates the file, then writes it).
    std::optional<Attachment> holder;

    bool operator==(const Reservation&) const = default;
};

// Where reservations live. The allocator talks to this interface only, so it is tested against
// an in-memory fake; DiskStore is the reference-compatible implementation.
//
// Every call except lock() requires the lock to be held (use StoreLock). Implementations throw
// netlib::Error for system call failures.
class Store {
public:
    Store() = default;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;
    virtual ~Store() = default;

    // Takes the store's exclusive lock, blocking; unlock() never throws.
    virtual void lock() = 0;
    virtual void unlock() noexcept = 0;

    // Reserves `ip` for `holder` atomically (it is visible complete or not at all) and records
    // it as the last reserved address of range set `set`. False if `ip` is already reserved.
    virtual bool reserve(const Attachment& holder, const netlib::IpAddr& ip, std::size_t set) = 0;
    // The address last reserved in range set `set`, if recorded and readable.
    virtual std::optional<netlib::IpAddr> last_reserved(std::size_t set) = 0;
    // The addresses held by exactly `holder` (a legacy holder matches only legacy files).
    virtual std::vector<netlib::IpAddr> find(const Attachment& holder) = 0;
    // Releases `ip` if it is held by `holder` (or unconditionally when holder is nullopt).
    // Returns whether a reservation was removed.
    virtual bool release(const netlib::IpAddr& ip, const std::optional<Attachment>& holder) = 0;
    // Releases everything held by exactly `holder`; returns the released addresses.
    virtual std::vector<netlib::IpAddr> release_all(const Attachment& holder) = 0;
    // Every reservation. May cost a full scan: for GC and STATUS, not for ADD or DEL.
    virtual std::vector<Reservation> list() = 0;

protected:
    Store(Store&&) = default;
    Store& operator=(Store&&) = default;
};

// Holds a store's lock for a scope.
class StoreLock {
public:
    explicit StoreLock(Store& store) : store_(store) { store_.lock(); }

    ~StoreLock() { store_.unlock(); }

    StoreLock(const StoreLock&) = delete;
    StoreLock& operator=(const StoreLock&) = delete;

private:
    Store& store_;
};

}  // namespace ipam
