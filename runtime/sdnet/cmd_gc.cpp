// sdnet gc NET: release attachments whose network namespace is gone (CNI GC, spec 1.1.0).
#include <iostream>

#include "runtime/libcni/attachment_id.hpp"
#include "runtime/libcni/error.hpp"
#include "runtime/sdnet/commands.hpp"

namespace sdnet {
namespace {

json entry_json(const libcni::CacheEntry& e) {
    return {{"containerId", e.container_id}, {"ifName", e.ifname}, {"netns", e.netns}};
}

std::string joined(const std::vector<std::string>& errors) {
    std::string out;
    for (const auto& e : errors) {
        out += (out.empty() ? "" : "; ") + e;
    }
    return out;
}

}  // namespace

int cmd_gc(Invocation& inv) {
    ParseSpec spec;
    spec.description =
        "Garbage-collect network NET. The valid attachments are the cached ones whose network\n"
        "namespace still exists or is not known; every other cached attachment of NET gets a\n"
        "CNI DEL (with its cached arguments) and its cache entry is removed. Then, from\n"
        "cniVersion 1.1.0, each plugin gets GC with the valid list so it can free leaked\n"
        "addresses and rules.";
    spec.positional = {"net"};
    spec.options.add_options()("dry-run,n", po::bool_switch(), "only list what would be released")(
        "json", po::bool_switch(), "print what was done as JSON");
    auto vm = parse(inv, spec);
    if (!vm) {
        return 0;
    }
    auto list = inv.globals.load((*vm)["net"].as<std::string>());
    auto rt = inv.globals.runtime();
    std::vector<libcni::GcAttachment> valid;
    std::vector<libcni::CacheEntry> stale;
    json kept = json::array();
    for (const auto& e : rt.cache().list()) {
        if (e.network != list.name) {
            continue;
        }
        // An entry that does not say which netns it is for (libcni before 1.2, result without
        // a sandbox) may well be live: only its runtime can tell, so it is kept.
        if (e.netns.empty() || libcni::netns_alive(e.netns)) {
            valid.push_back({e.container_id, e.ifname});
            kept.push_back(entry_json(e));
        } else {
            stale.push_back(e);
        }
    }
    libcni::GcReport report;
    if ((*vm)["dry-run"].as<bool>()) {
        report.deleted = list.disable_gc ? std::vector<libcni::CacheEntry>{} : stale;
    } else {
        report = rt.gc(list, valid);
    }
    if ((*vm)["json"].as<bool>()) {
        json deleted = json::array();
        for (const auto& e : report.deleted) {
            deleted.push_back(entry_json(e));
        }
        json j = {{"network", list.name},
                  {"dryRun", (*vm)["dry-run"].as<bool>()},
                  {"disableGC", list.disable_gc},
                  {"deleted", deleted},
                  {"kept", kept},
                  {"errors", report.errors}};
        inv.out << j.dump(2) << "\n";
    } else if (list.disable_gc) {
        inv.out << list.name << ": disableGC is set, nothing done\n";
    } else {
        const char* verb = (*vm)["dry-run"].as<bool>() ? "would release " : "released ";
        for (const auto& e : report.deleted) {
            inv.out << verb << e.container_id << " " << e.ifname << " (netns "
                    << (e.netns.empty() ? "unknown" : e.netns + " is gone") << ")\n";
        }
        inv.out << list.name << ": " << report.deleted.size() << " stale, " << valid.size()
                << " live attachment(s)\n";
    }
    if (!report.errors.empty()) {
        throw libcni::Error(joined(report.errors));
    }
    return 0;
}

}  // namespace sdnet
