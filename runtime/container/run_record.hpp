#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

// What a running `sdrun run` leaves behind if it is killed (kill -9, OOM, power cut of the
// process): <root>/running/<name>.json names its pid and start time, the container's cgroup
// directories and its directory. The container itself dies with sdrun (PR_SET_PDEATHSIG), so
// a record whose process is gone is stale, and the next sdrun call removes what it lists.
namespace sdrun {

struct RunRecord {
    std::string name;
    pid_t pid = 0;                      // the sdrun process supervising the container
    unsigned long long start_time = 0;  // its start time (/proc/<pid>/stat), against pid reuse
    unsigned long long pid_ns = 0;      // inode of its pid namespace: pid means nothing elsewhere
    std::vector<std::filesystem::path> cgroups;
    std::filesystem::path dir;  // the container's directory
    bool remove_dir = false;    // run --rm: the directory goes too
};

// The record of this process's container: written (atomically) on construction, removed on
// destruction, which must come after the cgroup and the directory are gone.
class RunRecordFile {
public:
    RunRecordFile(const std::filesystem::path& root, RunRecord record);
    RunRecordFile(const RunRecordFile&) = delete;
    RunRecordFile& operator=(const RunRecordFile&) = delete;
    ~RunRecordFile();

private:
    std::filesystem::path path_;
};

// A record of this process: getpid() and its start time.
RunRecord record_of_this_process(const std::string& name);

// Removes what the stale records under `root` list (cgroups, --rm directories) and the records;
// leaves alone those of live sdrun processes and of other pid namespaces (whose pids cannot be
// checked from here), and keeps a record whose cgroup still holds processes after a wait. Returns
// the names cleaned up. Never throws for one bad record: it is skipped (and removed when it cannot
// be parsed).
std::vector<std::string> clean_stale_runs(const std::filesystem::path& root);

}  // namespace sdrun
