#pragma once

#include <optional>
#include <string>

#include "netlib/ip.hpp"
#include "plugins/cni/gc.hpp"

// The link attributes ADD changed, as they were before: <dataDir>/<container id>_<ifname>.json,
// in the reference plugin's layout (its configToRestore, written with Go's json.MarshalIndent):
//   {
//    "mac": "0a:58:0a:58:00:05",
//    "promisc": false,
//    "mtu": 1500,
//    "allmulti": false,
//    "txQLen": 1000
//   }
// Only the attributes ADD changes are present; "mac" and "mtu" are absent when not saved (Go's
// omitempty), the others when null.
namespace tuning {

struct SavedState {
    std::optional<netlib::MacAddr> mac;
    std::optional<bool> promisc;
    std::optional<unsigned> mtu;
    std::optional<bool> allmulti;
    std::optional<unsigned> txqlen;

    bool operator==(const SavedState&) const = default;
};

std::string saved_state_path(const std::string& data_dir, const std::string& container_id,
                             const std::string& ifname);

// Creates `data_dir` (0700) if missing and writes the file (0600) under a temporary name renamed
// into place, so a crash never leaves half a file. Throws cni::Error(5).
void write_saved_state(const std::string& path, const SavedState& state);

// nullopt when the file does not exist. Throws std::runtime_error for content that is not the
// layout above.
std::optional<SavedState> read_saved_state(const std::string& path);

// Which attachment a saved state belongs to, kept beside it in <saved state path>.owner as
// {"network", "containerID", "ifname"}. The saved file's name holds no network, and dataDir is
// shared by every network, so GC for one network could not otherwise tell its files from
// another's; the saved file itself stays byte for byte the reference's. A saved file without an
// owner file (written by the reference) belongs to no known network, and GC keeps it.
inline constexpr std::string_view kOwnerSuffix = ".owner";

std::string owner_path(const std::string& saved_path);

// Written like the saved state (temporary name renamed into place). Throws cni::Error(5).
void write_owner(const std::string& saved_path, const cni::Attachment& owner);

// nullopt when the file does not exist or does not name an attachment.
std::optional<cni::Attachment> read_owner(const std::string& owner_file);

// Removes the saved state at `saved_path` and its owner file; absent files are fine.
void remove_saved_state(const std::string& saved_path);

}  // namespace tuning
