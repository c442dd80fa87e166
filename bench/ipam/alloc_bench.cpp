// Cost of one host-local allocation as the number of existing reservations grows: a /16 with 0,
// 1,000 and 30,000 reservations already on disk (made "by someone else": the first session
// indexes them, untimed). Each timed iteration is one locked allocation on the real disk store;
// the release that keeps the count constant is untimed.
//
// DelUnknown is the DEL of an attachment that holds nothing (one scan, to be sure of that).
// For contrast: Rebuild is our fallback after a foreign change (a full scan plus index rewrite,
// paid once), and ReferenceScan is the directory walk the reference host-local does on every
// ADD (reading every reservation file for its duplicate check; our .sdnet is left out, as in a
// network only the reference ever used).
#include <benchmark/benchmark.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "ipam/allocator.hpp"
#include "ipam/disk_store.hpp"
#include "ipam/host_local.hpp"

namespace {

namespace fs = std::filesystem;
using ipam::Attachment;
using ipam::DiskStore;
using ipam::StoreLock;
using netlib::IpAddr;

void write_file(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::trunc) << text;
}

// A data directory holding network "bench" with `existing` reservations from 10.20.0.2 up, and
// last_reserved_ip.0 at the last of them, as a long-running host would have.
class Network {
public:
    explicit Network(std::int64_t existing) {
        std::string tmpl = (fs::temp_directory_path() / "sdnet-bench-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        root = tmpl;
        fs::path dir = fs::path{root} / "bench";
        fs::create_directories(dir);
        IpAddr a = IpAddr::parse("10.20.0.2");
        for (std::int64_t i = 0; i < existing; ++i, a = a.next()) {
            write_file(dir / a.to_string(), "pre-" + std::to_string(i) + "\r\neth0");
        }
        if (existing > 0) {
            write_file(dir / "last_reserved_ip.0", a.prev().to_string());
        }
        {
            auto store = DiskStore::create(root, "bench");
            StoreLock lock{store};
            store.find({"warm-up", "eth0"});  // indexes the reservations above
        }
        ::sync();  // so the write-back of the set-up does not land in the timed loop
    }

    ~Network() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }

    Network(const Network&) = delete;
    Network& operator=(const Network&) = delete;

    std::string root;
};

const ipam::RangeSet& slash16() {
    static const auto kSet = ipam::RangeSet::make(
        {ipam::Range::make(netlib::IpNet::parse("10.20.0.0/16"), {}, {}, {}, "bench")}, "bench");
    return kSet;
}

void allocate(benchmark::State& state, bool durable) {
    Network net{state.range(0)};
    auto store = DiskStore::create(net.root, "bench", {.range_sets = 1, .durable = durable});
    int i = 0;
    for (auto _ : state) {
        Attachment who{"bench-" + std::to_string(i++), "eth0"};
        {
            StoreLock lock{store};
            auto ip = ipam::Allocator{slash16(), 0, store}.allocate(who, std::nullopt);
            benchmark::DoNotOptimize(ip);
            if (store.rebuilt()) {
                state.SkipWithError("the index was rebuilt inside the timed loop");
                break;
            }
        }
        state.PauseTiming();
        {
            StoreLock lock{store};
            store.release_all(who);
        }
        state.ResumeTiming();
    }
    state.counters["reservations"] = static_cast<double>(state.range(0));
}

void BM_Allocate(benchmark::State& state) {
    allocate(state, false);  // the default
}

// With DiskStoreOptions::durable: an fdatasync per reservation.
void BM_AllocateFsync(benchmark::State& state) {
    allocate(state, true);
}

// The whole in-process API, as the bridge plugin calls it: config parsing, store open, lock,
// allocation and then the DEL of it.
void BM_AddDelInProcess(benchmark::State& state) {
    Network net{state.range(0)};
    nlohmann::json config = {
        {"cniVersion", "1.1.0"},
        {"name", "bench"},
        {"type", "bridge"},
        {"ipam",
         {{"type", "host-local"},
          {"dataDir", net.root},
          {"ranges",
           nlohmann::json::array({nlohmann::json::array({{{"subnet", "10.20.0.0/16"}}})})}}}};
    cni::Request req;
    req.env.ifname = "eth0";
    req.env.netns = "/run/netns/bench";
    req.env.path = "/usr/lib/cni";
    req.config = config;
    req.conf = cni::NetConf::parse(config);
    int i = 0;
    for (auto _ : state) {
        req.env.container_id = "bench-" + std::to_string(i++);
        auto result = ipam::host_local_add(req);
        benchmark::DoNotOptimize(result);
        ipam::host_local_del(req);
    }
    state.counters["reservations"] = static_cast<double>(state.range(0));
}

// The DEL of an attachment the index does not know (a repeated DEL, or one whose reservation
// another writer made in the clock tick of our last change): one scan of the network
// directory confirms that it holds nothing (disk_store.hpp, "Timestamp granularity").
void BM_DelUnknown(benchmark::State& state) {
    Network net{state.range(0)};
    auto store = DiskStore::create(net.root, "bench");
    int i = 0;
    for (auto _ : state) {
        StoreLock lock{store};
        auto released = store.release_all({"gone-" + std::to_string(i++), "eth0"});
        benchmark::DoNotOptimize(released);
    }
    state.counters["reservations"] = static_cast<double>(state.range(0));
}

void BM_Rebuild(benchmark::State& state) {
    Network net{state.range(0)};
    auto store = DiskStore::create(net.root, "bench");
    for (auto _ : state) {
        state.PauseTiming();
        fs::remove(fs::path{net.root} / "bench/.sdnet/stamp");  // as after a foreign change
        state.ResumeTiming();
        StoreLock lock{store};
        benchmark::DoNotOptimize(store.find({"bench", "eth0"}));
    }
    state.counters["reservations"] = static_cast<double>(state.range(0));
}

void BM_ReferenceScan(benchmark::State& state) {
    Network net{state.range(0)};
    for (auto _ : state) {
        std::size_t bytes = 0;
        for (const auto& e : fs::directory_iterator(fs::path{net.root} / "bench")) {
            if (e.is_regular_file()) {
                std::ifstream in(e.path());
                std::string s((std::istreambuf_iterator<char>(in)), {});
                bytes += s.size();
            }
        }
        benchmark::DoNotOptimize(bytes);
    }
    state.counters["reservations"] = static_cast<double>(state.range(0));
}

BENCHMARK(BM_Allocate)
    ->Arg(0)
    ->Arg(1000)
    ->Arg(30000)
    ->Iterations(2000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AllocateFsync)
    ->Arg(0)
    ->Arg(1000)
    ->Arg(30000)
    ->Iterations(2000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AddDelInProcess)
    ->Arg(0)
    ->Arg(1000)
    ->Arg(30000)
    ->Iterations(2000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DelUnknown)
    ->Arg(0)
    ->Arg(1000)
    ->Arg(30000)
    ->Iterations(20)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Rebuild)->Arg(0)->Arg(1000)->Arg(30000)->Iterations(5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReferenceScan)
    ->Arg(0)
    ->Arg(1000)
    ->Arg(30000)
    ->Iterations(20)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
