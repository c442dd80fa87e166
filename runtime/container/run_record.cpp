#include "runtime/container/run_record.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include <sys/stat.h>
#include <unistd.h>

#include "runtime/container/cgroup.hpp"
#include "runtime/container/error.hpp"

namespace sdrun {
namespace fs = std::filesystem;

namespace {

fs::path records_dir(const fs::path& root) {
    return root / "running";
}

// Field 22 of /proc/<pid>/stat (clock ticks after boot); 0 when the process is gone. Fields
// are counted after the command name's closing parenthesis: the name may hold spaces.
unsigned long long start_time_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    auto close = stat.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int i = 3; i < 22 && fields >> field; ++i) {
    }
    unsigned long long start = 0;
    fields >> start;
    return start;
}

nlohmann::json to_json(const RunRecord& r) {
    std::vector<std::string> cgroups;
    for (const auto& c : r.cgroups) {
        cgroups.push_back(c.string());
    }
    return {{"name", r.name},
            {"pid", r.pid},
            {"start_time", r.start_time},
            {"pid_ns", r.pid_ns},
            {"cgroups", cgroups},
            {"dir", r.dir.string()},
            {"remove_dir", r.remove_dir}};
}

RunRecord from_json(const nlohmann::json& j) {
    RunRecord r;
    r.name = j.at("name").get<std::string>();
    r.pid = j.at("pid").get<pid_t>();
    r.start_time = j.at("start_time").get<unsigned long long>();
    r.pid_ns = j.at("pid_ns").get<unsigned long long>();
    for (const auto& c : j.at("cgroups")) {
        r.cgroups.emplace_back(c.get<std::string>());
    }
    r.dir = j.at("dir").get<std::string>();
    r.remove_dir = j.at("remove_dir").get<bool>();
    return r;
}

unsigned long long own_pid_ns() {
    struct stat st = {};
    return stat("/proc/self/ns/pid", &st) == 0 ? st.st_ino : 0;
}

// Whether the record's container may still run: its sdrun lives, or that cannot be told (a
// pid of another pid namespace). A dead sdrun's container is dying: PR_SET_PDEATHSIG.
bool maybe_running(const RunRecord& r) {
    return r.pid_ns != own_pid_ns() || (r.pid > 0 && start_time_of(r.pid) == r.start_time);
}

// Only what a record of ours can name: cgroup directories "sdrun-<name>" under
// /sys/fs/cgroup and the container's directory under <root>/containers. A record edited to
// point elsewhere removes nothing. False when a cgroup still holds processes after the wait:
// the directory and the record stay for a later call.
bool remove_listed(const fs::path& root, const RunRecord& r) {
    for (const auto& c : r.cgroups) {
        if (c.filename() == "sdrun-" + r.name && c.string().rfind("/sys/fs/cgroup/", 0) == 0 &&
            !remove_cgroup_dir(c)) {
            return false;
        }
    }
    if (r.remove_dir && r.dir == root / "containers" / r.name) {
        std::error_code ec;
        fs::remove_all(r.dir, ec);
    }
    return true;
}

}  // namespace

RunRecord record_of_this_process(const std::string& name) {
    RunRecord r;
    r.name = name;
    r.pid = getpid();
    r.start_time = start_time_of(r.pid);
    r.pid_ns = own_pid_ns();
    return r;
}

RunRecordFile::RunRecordFile(const fs::path& root, RunRecord record)
    : path_(records_dir(root) / (record.name + ".json")) {
    fs::create_directories(path_.parent_path());
    auto tmp = path_;
    tmp += ".tmp";
    {
        std::ofstream out(tmp);
        out << to_json(record).dump() << std::flush;
        if (!out) {
            throw Error("cannot write the state record " + tmp.string());
        }
    }
    fs::rename(tmp, path_);
}

RunRecordFile::~RunRecordFile() {
    std::error_code ec;
    fs::remove(path_, ec);
}

std::vector<std::string> clean_stale_runs(const fs::path& root) {
    std::vector<std::string> cleaned;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(records_dir(root), ec)) {
        if (entry.path().extension() != ".json") {
            continue;
        }
        try {
            std::ifstream in(entry.path());
            auto record = from_json(nlohmann::json::parse(in));
            if (maybe_running(record)) {
                continue;
            }
            if (!remove_listed(root, record)) {
                continue;
            }
            cleaned.push_back(record.name);
        } catch (const std::exception&) {
            // Unreadable (a crash between writing and renaming cannot make one): dropped.
        }
        fs::remove(entry.path(), ec);
    }
    return cleaned;
}

}  // namespace sdrun
