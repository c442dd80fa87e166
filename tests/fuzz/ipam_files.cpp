// host-local's files as found on disk (written by us, by the reference plugin, or torn by a
// crash): a reservation's holder, the snapshot of by-id entries, a resolv.conf for `resolvConf`.
#include "ipam/config.hpp"
#include "ipam/disk_store.hpp"
#include "ipam/snapshot.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sdnet::fuzz;
    std::string_view bytes = text(data, size);
    (void)ipam::DiskStore::parse_holder(bytes);
    if (auto snapshot = ipam::SnapshotView::parse(bytes)) {
        (void)snapshot->lookup("c1@eth0");
        (void)snapshot->lookup(bytes.substr(0, 32));
    }
    (void)ipam::parse_resolv_conf(bytes);
    return 0;
}
