#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "ipam/file_io.hpp"
#include "ipam/file_lock.hpp"
#include "ipam/pending_file.hpp"
#include "ipam/snapshot.hpp"
#include "ipam/store.hpp"
#include "netlib/fd.hpp"

// The reference-compatible reservation store, with an index that keeps ADD and DEL O(1).
//
// Layout of <dataDir>/<network>/. The first four entries are exactly the reference's, so users
// can switch between it and us in either direction without losing an allocation:
//
//   lock                    empty; every operation holds an exclusive flock on it
//   last_reserved_ip.<n>    the address last reserved in range set n, plain text
//   <ip>                    one reservation: "<containerID>\r\n<ifname>" (legacy: "<containerID>")
//   .sdnet/                 ours:
//     by-id/<cid>@<ifname>  addresses an attachment reserved through us (legacy files: "<cid>@")
//     snapshot              every (attachment, address) pair of the last full scan, sorted
//     stamp                 the network directory as we last left it, with the index complete
//     tmp-<pid>-<rand>      only where O_TMPFILE is unavailable: a reservation being written
//
// Crash safety. A reservation is written to an unnamed O_TMPFILE inode and then linkat(2)ed to
// its address name; link fails with EEXIST when the address is taken, so this is O_EXCL with
// content: the name never exists without its full content, whatever instant the process dies
// at, and a crash leaves nothing behind (the named-temp fallback leaves a tmp-* file, which the
// next rebuild deletes). Readers only consider names that parse as addresses.
// `durable` adds an fdatasync before the link, for power loss. It is off by default: it costs
// milliseconds per ADD (6 ms on the test VM), and a power loss ends every container anyway, so
// all reservations of the previous boot are stale whatever their content; an empty file left
// by a power loss reads as "held by nobody known", is never handed out, and GC releases it.
// last_reserved_ip.<n> and our own files are rewritten in place (pwrite + ftruncate): O_TRUNC or
// rename-over would make ext4 flush them (auto_da_alloc), also milliseconds. A torn
// last_reserved_ip only moves the round-robin start; our torn files are covered by the stamp.
//
// The index. The reference finds an attachment's addresses by reading every file of the network
// (on every ADD for its duplicate check, on every DEL). We answer from by-id/<key> (one open())
// plus a binary search of the mapped snapshot. '@' cannot occur in a container id, so keys are
// unambiguous and never addresses; our files start with a header line, so their content never
// equals "<cid>\r\n<ifname>" or "<cid>": the reference's walk, which reads every file under the
// network directory, can neither mistake nor delete them. Entries are hints, checked against
// the reservation file before use, so a reservation released behind our back (the reference's
// DEL, a user's rm) just drops out, and stale entries are harmless.
//
// Completeness. A missing entry must mean "holds nothing", or a duplicate ADD would slip through
// and a DEL would leak. Two things could break that: we crash between a reservation and its
// index entry, or another writer (the reference, during a switch-over) adds reservations
// without index entries. The stamp covers both. Before the first change of a locked session we
// overwrite its first byte; after the last change, with the index consistent, we write it
// anew, so a crash at any point leaves it invalid. It records the network directory's inode,
// size, mtime and ctime (ns), the inode, size, times and contents of each last_reserved_ip.<n>,
// and the snapshot's identity; the reference's Reserve creates a file (new directory times) and
// rewrites last_reserved_ip.<n> with the new address. A session that finds the stamp invalid or
// different rebuilds: one full scan, one new snapshot, and the removal of by-id files of
// attachments that hold nothing any more; about the cost of one reference ADD, once. A torn
// index file (e.g. after a power loss) triggers the same rebuild.
//
// Timestamp granularity, mixed use only: since Linux 6.13 a directory change after a stat()
// always gets a new fine-grained ctime, so every foreign change is seen. Older kernels (most
// hosts: Debian 12 runs 6.1) give two changes in one clock tick (1-10 ms) the same timestamp,
// so a foreign ADD in the tick right after ours can leave the stamp matching and the index
// without the foreign attachment. A missing entry then cannot be trusted for DEL, whose leak
// would be permanent: release_all() confirms "nothing held" by one scan of the network
// directory (shared by the id-only legacy lookup of the same DEL) unless this session rebuilt
// the index anyway. That is the cost of one reference DEL, paid only by DELs of attachments
// we never indexed (repeated DELs, foreign attachments); ADD and CHECK of an indexed
// attachment stay O(1). What is left: a foreign reservation, made in that tick, for an
// attachment we also hold (two plugins on one attachment); its DEL releases ours only, and GC
// releases the other once the attachment is gone.
namespace ipam {

struct DiskStoreOptions {
    // How many last_reserved_ip.<n> files the stamp watches at least (the config's range sets).
    std::size_t range_sets = 1;
    // fdatasync each reservation before it becomes visible (see above).
    bool durable = false;
    // Use named temp files even where O_TMPFILE works (tests of the fallback).
    bool named_temps = false;
};

class DiskStore final : public Store {
public:
    // Opens <data_dir>/<network>, creating it (0755, like the reference) if needed. `network`
    // must be a valid CNI network name (no '/'). Throws netlib::Error.
    static DiskStore create(const std::string& data_dir, const std::string& network,
                            DiskStoreOptions options = {});
    // As create(), but nullopt when the network directory does not exist (DEL, CHECK and
    // STATUS create nothing).
    static std::optional<DiskStore> open(const std::string& data_dir, const std::string& network,
                                         DiskStoreOptions options = {});

    // Movable only while unlocked.
    DiskStore(DiskStore&&) noexcept = default;
    DiskStore& operator=(DiskStore&&) = delete;
    ~DiskStore() override;

    const std::string& dir() const noexcept { return dir_; }

    void lock() override;
    void unlock() noexcept override;
    bool reserve(const Attachment& holder, const netlib::IpAddr& ip, std::size_t set) override;
    std::optional<netlib::IpAddr> last_reserved(std::size_t set) override;
    std::vector<netlib::IpAddr> find(const Attachment& holder) override;
    bool release(const netlib::IpAddr& ip, const std::optional<Attachment>& holder) override;
    std::vector<netlib::IpAddr> release_all(const Attachment& holder) override;
    std::vector<Reservation> list() override;

    // Whether this session had to rebuild the index (tests and benchmarks).
    bool rebuilt() const noexcept { return rebuilt_; }

    // The index key of an attachment ("<cid>@<ifname>"); exposed for tests.
    static std::string index_name(const Attachment& holder);
    // Parses a reservation file's content as the reference does (trimmed "<cid>\r\n<ifname>" or
    // "<cid>"); nullopt for anything else (empty, a half-written reference file).
    static std::optional<Attachment> parse_holder(std::string_view content);

private:
    // The by-id file of one attachment: absent, or the addresses it lists.
    struct Delta {
        bool present = false;
        std::vector<netlib::IpAddr> ips;
    };

    DiskStore(std::string dir, netlib::Fd dir_fd, DiskStoreOptions options);

    // Session steps.
    void require_lock() const;
    void open_private_files();
    void ensure_index();
    bool stamp_matches();
    std::string signature(std::size_t sets) const;
    void write_stamp();
    void begin_change();

    void end_change() noexcept { --in_flight_; }

    void rebuild(const std::vector<Reservation>& all);
    std::vector<Reservation> scan();
    // What a full scan finds held by `holder`: DEL's check of an index answer "nothing held".
    std::vector<netlib::IpAddr> scanned_holdings(const Attachment& holder);

    // The index.
    std::optional<Delta> read_delta(const Attachment& holder);
    const SnapshotView& snapshot();
    std::vector<netlib::IpAddr> index_entries(const Attachment& holder, bool* has_delta = nullptr);
    void write_delta(const Attachment& holder, const std::vector<netlib::IpAddr>& ips);
    bool holds(const netlib::IpAddr& ip, const Attachment& holder) const;

    std::string dir_;
    std::string priv_;  // dir_ + "/.sdnet", for messages
    netlib::Fd dir_fd_;
    netlib::Fd lock_fd_;
    netlib::Fd priv_fd_;   // .sdnet
    netlib::Fd index_fd_;  // .sdnet/by-id
    netlib::Fd stamp_fd_;  // .sdnet/stamp, O_RDWR
    DiskStoreOptions options_;
    std::optional<FileLock> held_;

    // Per locked session.
    bool index_valid_ = false;  // the index is known complete
    bool changed_ = false;      // we changed something (and invalidated the stamp)
    int in_flight_ = 0;         // > 0: a change threw halfway; do not vouch for the index
    bool rebuilt_ = false;
    std::size_t stamp_sets_ = 0;  // last_reserved_ip files the old stamp watched
    std::optional<file_io::Mapping> snapshot_map_;
    std::optional<SnapshotView> snapshot_;
    std::optional<std::vector<Reservation>> session_scan_;  // until this session changes a file
    std::optional<PendingFile> pending_;  // pending_holder_'s content, not yet linked
    Attachment pending_holder_;
};

}  // namespace ipam
