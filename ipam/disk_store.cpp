#include "ipam/disk_store.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <set>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipam/crash_point.hpp"
#include "ipam/range.hpp"
#include "netlib/error.hpp"
#include "plugins/cni/env.hpp"

namespace ipam {
namespace {

using file_io::list_dir;
using file_io::open_at;
using file_io::overwrite_at;
using file_io::read_at;
using file_io::unlink_at;
using netlib::IpAddr;

constexpr const char* kDefaultDataDir = "/var/lib/cni/networks";
constexpr const char* kPrivDir = ".sdnet";
constexpr const char* kIndexDir = "by-id";
constexpr const char* kStamp = "stamp";
constexpr const char* kSnapshot = "snapshot";
constexpr const char* kLock = "lock";
constexpr std::string_view kLastPrefix = "last_reserved_ip.";
constexpr std::string_view kIndexHeader = "sdnet host-local index v1\n";
constexpr std::string_view kStampHeader = "sdnet host-local stamp v1\n";
constexpr std::string_view kSpace = " \t\r\n\v\f";

std::string last_name(std::size_t set) {
    return std::string{kLastPrefix} + std::to_string(set);
}

std::string_view trim(std::string_view s) {
    auto b = s.find_first_not_of(kSpace);
    if (b == std::string_view::npos) {
        return {};
    }
    return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

std::string network_dir(const std::string& data_dir, const std::string& network) {
    if (network.empty() || network == "." || network == ".." ||
        network.find('/') != std::string::npos) {
        throw std::invalid_argument("invalid network name \"" + network + "\"");
    }
    std::string base = data_dir.empty() ? kDefaultDataDir : data_dir;
    while (base.size() > 1 && base.back() == '/') {
        base.pop_back();
    }
    return base + "/" + network;
}

std::string stat_text(const struct stat& st) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%llu %lld %lld.%09ld %lld.%09ld",
                  static_cast<unsigned long long>(st.st_ino), static_cast<long long>(st.st_size),
                  static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec,
                  static_cast<long long>(st.st_ctim.tv_sec), st.st_ctim.tv_nsec);
    return buf;
}

std::string hex(std::string_view data) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : data) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out.empty() ? "-" : out;
}

// Whether an attachment can have index entries: its key must be unambiguous, free of
// whitespace and fit NAME_MAX. Ids and ifnames the dispatcher accepts always qualify; others
// (only possible in files written by someone else) are looked up by scanning.
bool indexable(const Attachment& a) {
    return cni::valid_id(a.container_id) && (a.ifname.empty() || !cni::ifname_problem(a.ifname)) &&
           a.container_id.size() + 1 + a.ifname.size() <= NAME_MAX;
}

std::string reservation_content(const Attachment& a) {
    // The reference writes strings.TrimSpace(id) + "\r\n" + ifname.
    std::string out{trim(a.container_id)};
    if (!a.ifname.empty()) {
        out += "\r\n" + a.ifname;
    }
    return out;
}

const SnapshotView& empty_snapshot() {
    static const std::string kText = format_snapshot({});
    static const SnapshotView kView = *SnapshotView::parse(kText);
    return kView;
}

}  // namespace

DiskStore DiskStore::create(const std::string& data_dir, const std::string& network,
                            DiskStoreOptions options) {
    std::string dir = network_dir(data_dir, network);
    file_io::make_dirs(dir);
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    netlib::check_errno(fd, "open", dir);
    return DiskStore{std::move(dir), netlib::Fd{fd}, options};
}

std::optional<DiskStore> DiskStore::open(const std::string& data_dir, const std::string& network,
                                         DiskStoreOptions options) {
    std::string dir = network_dir(data_dir, network);
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        return std::nullopt;
    }
    netlib::check_errno(fd, "open", dir);
    return DiskStore{std::move(dir), netlib::Fd{fd}, options};
}

DiskStore::DiskStore(std::string dir, netlib::Fd dir_fd, DiskStoreOptions options)
    : dir_(std::move(dir)),
      priv_(dir_ + "/" + kPrivDir),
      dir_fd_(std::move(dir_fd)),
      options_(options) {
    int fd = ::openat(dir_fd_.get(), kLock, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    netlib::check_errno(fd, "open", dir_ + "/" + kLock);
    lock_fd_ = netlib::Fd{fd};
}

DiskStore::~DiskStore() {
    unlock();
}

std::string DiskStore::index_name(const Attachment& holder) {
    return holder.container_id + "@" + holder.ifname;
}

std::optional<Attachment> DiskStore::parse_holder(std::string_view content) {
    content = trim(content);
    if (content.empty()) {
        return std::nullopt;
    }
    auto crlf = content.find("\r\n");
    if (crlf == std::string_view::npos) {
        return Attachment{std::string{content}, {}};
    }
    return Attachment{std::string{content.substr(0, crlf)}, std::string{content.substr(crlf + 2)}};
}

// ---- session -----------------------------------------------------------------------------

void DiskStore::lock() {
    if (held_) {
        throw std::logic_error("DiskStore::lock: already locked");
    }
    held_.emplace(lock_fd_.get());
    index_valid_ = false;
    changed_ = false;
    in_flight_ = 0;
    rebuilt_ = false;
    stamp_sets_ = 0;
    session_scan_.reset();
    try {
        open_private_files();
    } catch (const std::exception&) {
        held_.reset();
        throw;
    }
}

void DiskStore::unlock() noexcept {
    if (!held_) {
        return;
    }
    pending_.reset();
    if (changed_ && in_flight_ == 0) {
        try {
            write_stamp();
        } catch (const std::exception&) {
            // The stamp stays invalid: the next session rebuilds. Safe, only slower.
        }
    }
    snapshot_.reset();
    snapshot_map_.reset();
    stamp_fd_.reset();
    index_fd_.reset();
    priv_fd_.reset();
    held_.reset();
}

void DiskStore::require_lock() const {
    if (!held_) {
        throw std::logic_error("DiskStore: the store lock is not held");
    }
}

void DiskStore::open_private_files() {
    priv_fd_ = file_io::open_dir(dir_fd_.get(), kPrivDir, dir_);
    index_fd_ = file_io::open_dir(priv_fd_.get(), kIndexDir, priv_);
    auto stamp = open_at(priv_fd_.get(), kStamp, O_RDWR | O_CREAT, priv_, 0600);
    if (!stamp) {
        throw netlib::Error(ELOOP, "open", priv_ + "/" + kStamp);
    }
    stamp_fd_ = std::move(*stamp);
}

void DiskStore::ensure_index() {
    require_lock();
    if (index_valid_) {
        return;
    }
    if (stamp_matches()) {
        index_valid_ = true;
        return;
    }
    rebuild(scan());
}

std::string DiskStore::signature(std::size_t sets) const {
    struct stat st {};

    netlib::check_errno(::fstat(dir_fd_.get(), &st), "stat", dir_);
    std::string out{kStampHeader};
    out += "sets " + std::to_string(sets) + "\n";
    out += "dir " + stat_text(st) + "\n";
    for (std::size_t i = 0; i < sets; ++i) {
        out += "last " + std::to_string(i) + " ";
        auto fd = open_at(dir_fd_.get(), last_name(i), O_RDONLY, dir_);
        if (!fd) {
            out += "-\n";
            continue;
        }
        netlib::check_errno(::fstat(fd->get(), &st), "stat", dir_ + "/" + last_name(i));
        auto content = file_io::read_fd(fd->get(), dir_ + "/" + last_name(i));
        out += stat_text(st) + " " + hex(content.value_or("")) + "\n";
    }
    if (::fstatat(priv_fd_.get(), kSnapshot, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        out += "snapshot " + stat_text(st) + "\n";
    } else if (errno == ENOENT) {
        out += "snapshot -\n";
    } else {
        throw netlib::Error(errno, "stat", priv_ + "/" + kSnapshot);
    }
    return out;
}

bool DiskStore::stamp_matches() {
    auto stored = file_io::read_fd(stamp_fd_.get(), priv_ + "/" + kStamp);
    if (!stored || !stored->starts_with(kStampHeader)) {
        return false;
    }
    std::size_t sets = 0;
    std::string_view rest = std::string_view{*stored}.substr(kStampHeader.size());
    if (std::sscanf(std::string{rest.substr(0, rest.find('\n'))}.c_str(), "sets %zu", &sets) != 1 ||
        sets > 4096) {
        return false;
    }
    stamp_sets_ = sets;
    return *stored == signature(sets);
}

void DiskStore::write_stamp() {
    std::string text = signature(std::max(stamp_sets_, options_.range_sets));
    file_io::overwrite_fd(stamp_fd_.get(), text, priv_ + "/" + kStamp);
}

void DiskStore::begin_change() {
    if (!changed_) {
        // Until unlock() writes a new stamp, a crash leaves this one invalid: the next session
        // rebuilds the index instead of trusting it. A one-byte pwrite, no directory change.
        if (::pwrite(stamp_fd_.get(), "!", 1, 0) != 1) {
            throw netlib::Error(errno, "write", priv_ + "/" + kStamp);
        }
        changed_ = true;
        crash_point::reached("stamp-invalidated");
    }
    session_scan_.reset();
    ++in_flight_;
}

std::vector<Reservation> DiskStore::scan() {
    std::vector<Reservation> out;
    for (const auto& e : list_dir(dir_fd_.get(), dir_)) {
        auto ip = IpAddr::try_parse(e.name);
        // lock, last_reserved_ip.*, .sdnet and foreign files are not reservations; nor are
        // non-canonical spellings, which nobody writes.
        if (e.is_dir || !ip || ip->to_string() != e.name) {
            continue;
        }
        auto content = read_at(dir_fd_.get(), e.name, dir_);
        out.push_back({*ip, content ? parse_holder(*content) : std::nullopt});
    }
    return out;
}

void DiskStore::rebuild(const std::vector<Reservation>& all) {
    begin_change();
    std::vector<std::pair<std::string, IpAddr>> entries;
    std::set<std::string> keys;
    for (const auto& r : all) {
        if (r.holder && indexable(*r.holder)) {
            entries.emplace_back(index_name(*r.holder), r.ip);
            keys.insert(entries.back().first);
        }
    }
    snapshot_.reset();
    snapshot_map_.reset();
    overwrite_at(priv_fd_.get(), kSnapshot, format_snapshot(std::move(entries)), priv_);
    crash_point::reached("snapshot-written");
    std::string index_dir = priv_ + "/" + kIndexDir;
    for (const auto& e : list_dir(index_fd_.get(), index_dir)) {
        if (!keys.contains(e.name)) {  // holds nothing any more
            unlink_at(index_fd_.get(), e.name, index_dir);
        }
    }
    for (const auto& e : list_dir(priv_fd_.get(), priv_)) {
        bool ours = pending_ && e.name == pending_->temp_name();
        if (e.name.starts_with(kTempPrefix) && !ours) {  // a crashed writer's
            unlink_at(priv_fd_.get(), e.name, priv_);
        }
    }
    index_valid_ = true;
    rebuilt_ = true;
    end_change();
}

// ---- the index -------------------------------------------------------------------------------

std::optional<DiskStore::Delta> DiskStore::read_delta(const Attachment& holder) {
    auto text = read_at(index_fd_.get(), index_name(holder), priv_ + "/" + kIndexDir);
    if (!text) {
        return Delta{};
    }
    std::string_view rest = *text;
    std::string key_line = index_name(holder) + "\n";
    if (!rest.starts_with(kIndexHeader) ||
        !rest.substr(kIndexHeader.size()).starts_with(key_line)) {
        return std::nullopt;
    }
    rest.remove_prefix(kIndexHeader.size() + key_line.size());
    Delta d{true, {}};
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        auto ip =
            nl == std::string_view::npos ? std::nullopt : IpAddr::try_parse(rest.substr(0, nl));
        if (!ip) {
            return std::nullopt;  // torn
        }
        d.ips.push_back(*ip);
        rest.remove_prefix(nl + 1);
    }
    return d;
}

const SnapshotView& DiskStore::snapshot() {
    if (snapshot_) {
        return *snapshot_;
    }
    auto fd = open_at(priv_fd_.get(), kSnapshot, O_RDONLY, priv_);
    if (!fd) {
        return empty_snapshot();  // never rebuilt: everything is in by-id
    }

    struct stat st {};

    netlib::check_errno(::fstat(fd->get(), &st), "stat", priv_ + "/" + kSnapshot);
    snapshot_map_.emplace(fd->get(), static_cast<std::size_t>(st.st_size), priv_ + "/" + kSnapshot);
    snapshot_ = SnapshotView::parse(snapshot_map_->view());
    if (!snapshot_) {
        if (rebuilt_) {
            throw std::runtime_error(priv_ + "/" + kSnapshot + " is unreadable after a rebuild");
        }
        rebuild(scan());  // torn, e.g. by a power loss
        return snapshot();
    }
    return *snapshot_;
}

std::vector<IpAddr> DiskStore::index_entries(const Attachment& holder, bool* has_delta) {
    std::vector<IpAddr> ips;
    if (!indexable(holder)) {
        for (const auto& r : scan()) {
            if (r.holder == holder) {
                ips.push_back(r.ip);
            }
        }
        return ips;
    }
    auto delta = read_delta(holder);
    if (!delta) {
        if (!rebuilt_) {
            rebuild(scan());  // the snapshot now lists everything the torn file did
        }
        begin_change();
        unlink_at(index_fd_.get(), index_name(holder), priv_ + "/" + kIndexDir);
        end_change();
        delta = Delta{};
    }
    if (has_delta != nullptr) {
        *has_delta = delta->present;
    }
    ips = std::move(delta->ips);
    for (const auto& ip : snapshot().lookup(index_name(holder))) {
        if (std::find(ips.begin(), ips.end(), ip) == ips.end()) {
            ips.push_back(ip);
        }
    }
    return ips;
}

void DiskStore::write_delta(const Attachment& holder, const std::vector<IpAddr>& ips) {
    std::string where = priv_ + "/" + kIndexDir;
    if (ips.empty()) {
        unlink_at(index_fd_.get(), index_name(holder), where);
        return;
    }
    std::string text{kIndexHeader};
    text += index_name(holder) + "\n";
    for (const auto& ip : ips) {
        text += ip.to_string() + "\n";
    }
    overwrite_at(index_fd_.get(), index_name(holder), text, where);
}

bool DiskStore::holds(const IpAddr& ip, const Attachment& holder) const {
    auto content = read_at(dir_fd_.get(), ip.to_string(), dir_);
    return content && parse_holder(*content) == holder;
}

// ---- Store -----------------------------------------------------------------------------------

bool DiskStore::reserve(const Attachment& holder, const IpAddr& ip, std::size_t set) {
    ensure_index();
    begin_change();
    std::string name = ip.to_string();
    if (!pending_ || pending_holder_ != holder) {
        pending_.reset();
        pending_.emplace(PendingFile::Dirs{dir_fd_.get(), dir_, priv_fd_.get(), priv_},
                         reservation_content(holder), options_.durable, options_.named_temps);
        pending_holder_ = holder;
    }
    bool linked = pending_->link_as(name);
    options_.named_temps = pending_->named();  // remember a fallback for the next ones
    if (!linked) {
        end_change();
        return false;  // taken; the pending file is kept for the next candidate
    }
    pending_.reset();
    crash_point::reached("reservation-linked");
    if (indexable(holder)) {
        auto delta = read_delta(holder);
        if (!delta) {
            if (!rebuilt_) {
                rebuild(scan());  // the new snapshot lists what the torn file did, and `ip`
            }
            delta = Delta{};
        }
        std::vector<IpAddr> ips;
        for (const auto& held : delta->ips) {
            if (held != ip && holds(held, holder)) {
                ips.push_back(held);  // drops entries released behind our back
            }
        }
        ips.push_back(ip);
        write_delta(holder, ips);
        crash_point::reached("index-written");
    }
    overwrite_at(dir_fd_.get(), last_name(set), name, dir_);
    crash_point::reached("last-reserved-written");
    end_change();
    return true;
}

std::optional<IpAddr> DiskStore::last_reserved(std::size_t set) {
    require_lock();
    auto text = read_at(dir_fd_.get(), last_name(set), dir_);
    if (!text) {
        return std::nullopt;
    }
    auto ip = IpAddr::try_parse(trim(*text));
    return ip ? std::optional<IpAddr>{canonical(*ip)} : std::nullopt;
}

std::vector<IpAddr> DiskStore::find(const Attachment& holder) {
    ensure_index();
    std::vector<IpAddr> out;
    for (const auto& ip : index_entries(holder)) {
        if (holds(ip, holder)) {
            out.push_back(ip);
        }
    }
    return out;
}

bool DiskStore::release(const IpAddr& ip, const std::optional<Attachment>& holder) {
    ensure_index();
    if (holder && !holds(ip, *holder)) {
        return false;
    }
    begin_change();
    bool removed = unlink_at(dir_fd_.get(), ip.to_string(), dir_);
    if (holder && indexable(*holder)) {
        // A torn by-id file is left alone: the next lookup of it rebuilds.
        if (auto delta = read_delta(*holder); delta && delta->present) {
            std::erase(delta->ips, ip);
            write_delta(*holder, delta->ips);
        }
    }
    end_change();
    return removed;
}

std::vector<IpAddr> DiskStore::scanned_holdings(const Attachment& holder) {
    if (rebuilt_) {
        return {};  // this session's index comes from a full scan: nothing to confirm
    }
    if (!session_scan_) {
        session_scan_ = scan();
    }
    std::vector<IpAddr> out;
    for (const auto& r : *session_scan_) {
        if (r.holder == holder) {
            out.push_back(r.ip);
        }
    }
    return out;
}

std::vector<IpAddr> DiskStore::release_all(const Attachment& holder) {
    ensure_index();
    bool has_delta = false;
    std::vector<IpAddr> held;
    for (const auto& ip : index_entries(holder, &has_delta)) {
        if (holds(ip, holder)) {
            held.push_back(ip);
        }
    }
    if (held.empty() && !has_delta) {
        held = scanned_holdings(holder);
        if (held.empty()) {
            return {};  // the DEL of an unknown attachment changes nothing
        }
    }
    begin_change();
    std::vector<IpAddr> released;
    for (const auto& ip : held) {
        if (unlink_at(dir_fd_.get(), ip.to_string(), dir_)) {
            released.push_back(ip);
            crash_point::reached("reservation-unlinked");
        }
    }
    if (has_delta) {
        write_delta(holder, {});
        crash_point::reached("index-cleared");
    }
    end_change();
    return released;
}

std::vector<Reservation> DiskStore::list() {
    require_lock();
    auto all = scan();
    if (!index_valid_) {
        if (stamp_matches()) {
            index_valid_ = true;
        } else {
            rebuild(all);
        }
    }
    return all;
}

}  // namespace ipam
