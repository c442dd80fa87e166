// The checks of `sdnet conformance`. Every plugin call goes through cni::exec_plugin with the
// environment a runtime sets; kernel state is observed with netlib in the suite's own private
// namespaces, and reservations by listing /var/lib/cni (a private tmpfs here).
#include "runtime/sdnet/conformance.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include "netlib/addr.hpp"
#include "netlib/error.hpp"
#include "netlib/ip.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route.hpp"
#include "netlib/route_socket.hpp"
#include "netlib/tc.hpp"
#include "plugins/cni/error.hpp"
#include "plugins/cni/exec.hpp"

namespace sdnet::conformance {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kMaster = "cfmaster0";  // parent link of macvlan, ipvlan and vlan
constexpr const char* kIfname = "eth0";
constexpr int kParallelAdds = 8;
constexpr std::chrono::seconds kNamespaceTeardown{10};
const fs::path kLeaseDir = "/var/lib/cni/networks";
const std::vector<std::string> kSpecVersions = {"0.1.0", "0.2.0", "0.3.0", "0.3.1",
                                                "0.4.0", "1.0.0", "1.1.0"};

enum class Role {
    Interface,  // creates the container's interface and delegates to an IPAM plugin
    Ipam,       // host-local, static: called directly
    Loopback,
    Chained,  // needs a prevResult: run after the directory's own bridge
};

struct Kind {
    std::string type;
    Role role;
    std::string kernel_kind;  // link kind the kernel must support ("" none)
};

const std::vector<Kind>& kinds() {
    static const std::vector<Kind> k = {
        {"bridge", Role::Interface, "bridge"},
        {"macvlan", Role::Interface, "macvlan"},
        {"ipvlan", Role::Interface, "ipvlan"},
        {"vlan", Role::Interface, "vlan"},
        {"tap", Role::Interface, "tap"},
        {"host-local", Role::Ipam, ""},
        {"static", Role::Ipam, ""},
        {"loopback", Role::Loopback, ""},
        {"portmap", Role::Chained, ""},
        {"bandwidth", Role::Chained, "ifb"},
        {"firewall", Role::Chained, ""},
        {"tuning", Role::Chained, ""},
    };
    return k;
}

int compare_versions(const std::string& a, const std::string& b) {
    auto parts = [](const std::string& v) {
        std::vector<int> out;
        std::size_t pos = 0;
        while (pos <= v.size()) {
            auto dot = v.find('.', pos);
            out.push_back(std::atoi(v.substr(pos, dot - pos).c_str()));
            if (dot == std::string::npos) {
                break;
            }
            pos = dot + 1;
        }
        return out;
    };
    auto pa = parts(a);
    auto pb = parts(b);
    return pa < pb ? -1 : (pa == pb ? 0 : 1);
}

// What a plugin answered: its stdout on success, its error code and message otherwise.
struct Reply {
    bool ok = false;
    json out;
    int code = 0;
    std::string msg;

    std::string describe() const {
        return ok ? "succeeded" : "error " + std::to_string(code) + " \"" + msg + "\"";
    }
};

struct Call {
    cni::Command command = cni::Command::Add;
    std::string container_id;
    std::string netns;
    std::string ifname = kIfname;
    std::string stdin_data;
    std::vector<std::string> drop_env;  // variables to leave out ("CNI_CONTAINERID")
};

Reply invoke(const std::string& binary, const std::string& plugin_dir, const Call& c) {
    cni::PluginEnv env{c.command, c.container_id, c.netns, c.ifname, "", plugin_dir};
    auto envp = cni::plugin_environment(env);
    std::erase_if(envp, [&](const std::string& kv) {
        return std::any_of(c.drop_env.begin(), c.drop_env.end(),
                           [&](const std::string& name) { return kv.starts_with(name + "="); });
    });
    Reply r;
    try {
        r.out = cni::exec_plugin(binary, envp, c.stdin_data);
        r.ok = true;
    } catch (const cni::Error& e) {
        r.code = static_cast<int>(e.code());
        r.msg = e.what();
    }
    return r;
}

// A named network namespace for one attachment, removed with the object.
class ScratchNetns {
public:
    explicit ScratchNetns(std::string name)
        : name_(std::move(name)), path_(netlib::create_named_netns(name_)) {}

    ~ScratchNetns() {
        try {
            remove();
        } catch (const std::exception&) {
            // Inside the suite's private mount namespace: gone when the suite exits anyway.
        }
    }

    ScratchNetns(const ScratchNetns&) = delete;
    ScratchNetns& operator=(const ScratchNetns&) = delete;

    const std::string& path() const noexcept { return path_; }

    void remove() {
        if (!removed_) {
            netlib::remove_named_netns(name_);
            removed_ = true;
        }
    }

    // Links other than lo: what an attachment left inside.
    std::vector<std::string> links() const {
        std::vector<std::string> out;
        auto ns = netlib::Netns::open(path_);
        auto sock = netlib::RouteSocket::open_in(ns);
        for (const auto& l : netlib::list_links(sock)) {
            if (l.name != "lo") {
                out.push_back(l.name);
            }
        }
        return out;
    }

private:
    std::string name_;
    std::string path_;
    bool removed_ = false;
};

std::string unique_name(const std::string& prefix) {
    static std::atomic<int> counter{0};
    return prefix + std::to_string(++counter);
}

// Everything an attachment can leave in the suite's host namespace and on disk: links,
// addresses, routes, non-default qdiscs, and host-local reservations (files named by an address,
// not the lock or other bookkeeping). One string per item, so two snapshots can be compared.
std::set<std::string> snapshot() {
    std::set<std::string> items;
    auto sock = netlib::RouteSocket::open();
    std::map<int, std::string> names;
    for (const auto& l : netlib::list_links(sock)) {
        names[l.index] = l.name;
        items.insert("link " + l.name + (l.kind.empty() ? "" : " (" + l.kind + ")"));
        for (const auto& a : netlib::list_addresses(sock, l.index)) {
            items.insert("address " + a.to_string() + " on " + l.name);
        }
        if (auto q = netlib::find_root_qdisc(sock, l.index); q && q->handle != 0) {
            items.insert("qdisc " + q->kind + " on " + l.name);
        }
        if (auto q = netlib::find_ingress_qdisc(sock, l.index)) {
            items.insert("qdisc ingress on " + l.name);
        }
    }
    for (const auto& r : netlib::list_routes(sock)) {
        items.insert("route " + r.dst.to_string() + (r.gw ? " via " + r.gw->to_string() : "") +
                     " dev " + names[r.ifindex]);
    }
    std::error_code ec;
    for (const auto& net : fs::directory_iterator(kLeaseDir, ec)) {
        for (const auto& file : fs::directory_iterator(net.path(), ec)) {
            if (netlib::IpAddr::try_parse(file.path().filename().string())) {
                items.insert("reservation " + file.path().string());
            }
        }
    }
    return items;
}

std::string difference(const std::set<std::string>& before, const std::set<std::string>& after) {
    std::string out;
    for (const auto& item : after) {
        if (!before.contains(item)) {
            out += (out.empty() ? "" : ", ") + item;
        }
    }
    return out;
}

// The first problem with a result's shape for `version` (SPEC.md §5 and the 0.x specs), or "".
std::string shape_problem(const json& r, const std::string& version, bool expect_ips,
                          const std::string& netns, bool expect_sandbox) {
    if (!r.is_object()) {
        return "result is not a JSON object";
    }
    if (r.contains("cniVersion") && r["cniVersion"] != version) {
        return "cniVersion " + r["cniVersion"].dump() + ", asked for \"" + version + "\"";
    }
    if (compare_versions(version, "0.3.0") < 0) {
        if (expect_ips && !r.contains("ip4") && !r.contains("ip6")) {
            return "no ip4/ip6 in a " + version + " result";
        }
        return "";
    }
    if (!r.contains("cniVersion")) {
        return "no cniVersion";
    }
    json ifaces = r.value("interfaces", json::array());
    json ips = r.value("ips", json::array());
    if (!ifaces.is_array() || !ips.is_array()) {
        return "interfaces/ips are not arrays";
    }
    for (const auto& i : ifaces) {
        if (!i.is_object() || !i.contains("name") || !i["name"].is_string()) {
            return "an interface without a name";
        }
    }
    if (expect_sandbox && std::none_of(ifaces.begin(), ifaces.end(), [&](const json& i) {
            return i.value("sandbox", "") == netns;
        })) {
        return "no interface with sandbox " + netns;
    }
    if (expect_ips && ips.empty()) {
        return "no ips";
    }
    bool wants_version = compare_versions(version, "1.0.0") < 0;
    for (const auto& ip : ips) {
        auto net = netlib::IpNet::try_parse(ip.value("address", ""));
        if (!net) {
            return "ips[].address " + ip.value("address", json()).dump() + " is not an address/len";
        }
        if (wants_version != ip.contains("version")) {
            return wants_version ? "ips[] without \"version\" (required before 1.0.0)"
                                 : "ips[] with \"version\" (removed in 1.0.0)";
        }
        if (ip.contains("interface") &&
            (!ip["interface"].is_number_integer() || ip["interface"].get<int>() < 0 ||
             ip["interface"].get<std::size_t>() >= ifaces.size())) {
            return "ips[].interface " + ip["interface"].dump() + " is not an interfaces index";
        }
    }
    return "";
}

std::vector<std::string> addresses_of(const json& result) {
    std::vector<std::string> out;
    if (result.is_object() && result.contains("ips") && result["ips"].is_array()) {
        for (const auto& ip : result["ips"]) {
            out.push_back(ip.value("address", ""));
        }
    }
    if (result.is_object() && result.contains("ip4")) {
        out.push_back(result["ip4"].value("ip", ""));
    }
    return out;
}

// Why the kernel cannot run `kind` ("" when it can), probed by creating one in the suite's
// namespace.
std::string kernel_lacks(const std::string& kind) {
    if (kind.empty() || kind == "bridge") {
        return "";
    }
    auto sock = netlib::RouteSocket::open();
    auto master = netlib::find_link(sock, kMaster);
    std::string name = "cfprobe0";
    try {
        if (kind == "macvlan") {
            netlib::MacvlanSpec spec;
            spec.name = name;
            spec.master = master->index;
            (void)netlib::create_macvlan(sock, spec);
        } else if (kind == "ipvlan") {
            netlib::IpvlanSpec spec;
            spec.name = name;
            spec.master = master->index;
            (void)netlib::create_ipvlan(sock, spec);
        } else if (kind == "vlan") {
            netlib::VlanSpec spec;
            spec.name = name;
            spec.master = master->index;
            spec.id = 4000;
            (void)netlib::create_vlan(sock, spec);
        } else if (kind == "tap") {
            netlib::TapSpec spec;
            spec.name = name;
            (void)netlib::create_tap(netlib::Netns::current(), spec);
        } else if (kind == "ifb") {
            netlib::IfbSpec spec;
            spec.name = name;
            (void)netlib::create_ifb(sock, spec);
        }
    } catch (const netlib::Error& e) {
        return "kernel lacks " + kind + " (" + e.what() + ")";
    }
    netlib::remove_link(sock, name);
    return "";
}

class Suite {
public:
    Suite(const Options& opts, std::function<void(const CheckResult&)> report)
        : dir_(opts.plugin_dir), report_(std::move(report)) {}

    void run_plugin(const Kind& kind, int index);

    std::vector<CheckResult> results;

private:
    void record(const std::string& check, Outcome o, const std::string& detail) {
        results.push_back({kind_->type, check, o, detail});
        report_(results.back());
    }

    void pass(const std::string& check, const std::string& detail = "") {
        record(check, Outcome::Pass, detail);
    }

    void fail(const std::string& check, const std::string& detail) {
        record(check, Outcome::Fail, detail);
    }

    void na(const std::string& check, const std::string& detail) {
        record(check, Outcome::NotApplicable, detail);
    }

    // Runs `body`, which returns "" or what went wrong; an exception is a failure too.
    void check(const std::string& name, const std::function<std::string()>& body,
               const std::string& pass_detail = "") {
        try {
            auto problem = body();
            problem.empty() ? pass(name, pass_detail) : fail(name, problem);
        } catch (const std::exception& e) {
            fail(name, e.what());
        }
    }

    // A leak check against the baseline; the baseline moves on so a leak is reported once.
    // `settle`: the kernel destroys a namespace's links (and a veth's host end with them) in a
    // work queue after the last reference goes, so after a namespace was removed the check
    // polls until nothing is left or the deadline passes.
    std::string leaks(std::chrono::seconds settle = std::chrono::seconds(0)) {
        auto deadline = std::chrono::steady_clock::now() + settle;
        auto now = snapshot();
        while (!difference(baseline_, now).empty() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            now = snapshot();
        }
        auto left = difference(baseline_, now);
        baseline_ = now;
        return left.empty() ? "" : "left behind: " + left;
    }

    std::string binary(const std::string& type) const { return (fs::path(dir_) / type).string(); }

    json ipam(std::optional<std::string> only_address = {}) const;
    json config(const std::string& version, const std::string& network,
                std::optional<std::string> only_address = {},
                const std::string& container_id = "") const;

    // The counter unique_name() put at the end of a container id (0 for none): attachments that
    // exist at the same time get different host ports and VLAN ids from it.
    static int serial(const std::string& container_id) {
        auto digits = container_id.find_last_not_of("0123456789") + 1;
        return digits < container_id.size() ? std::atoi(container_id.c_str() + digits) : 0;
    }

    json base_config(const std::string& version, const std::string& network) const;
    Reply add(const std::string& version, const std::string& network, const std::string& cid,
              const ScratchNetns& ns, json* base_result = nullptr,
              std::optional<std::string> only_address = {});
    Reply del(const std::string& version, const std::string& network, const std::string& cid,
              const std::string& netns, const json& prev, const json& base_prev);

    Reply raw(cni::Command command, const std::string& stdin_data, const std::string& cid,
              const std::string& netns, std::vector<std::string> drop_env = {},
              std::string ifname = kIfname) const {
        return invoke(binary(kind_->type), dir_,
                      {command, cid, netns, std::move(ifname), stdin_data, std::move(drop_env)});
    }

    bool has_ipam() const { return kind_->role == Role::Interface || kind_->type == "host-local"; }

    void warm_up(const std::string& version);
    void check_versions(const std::vector<std::string>& versions);
    std::optional<json> invalid_value(json good) const;
    void check_errors(const std::string& version);
    void check_del_cases(const std::string& version);
    void check_concurrency(const std::string& version);
    void check_exhaustion(const std::string& version);
    void check_rollback(const std::string& version);
    void check_gc_status(bool claims_11);

    std::string dir_;
    std::function<void(const CheckResult&)> report_;
    const Kind* kind_ = nullptr;
    int index_ = 0;
    std::set<std::string> baseline_;
};

json Suite::ipam(std::optional<std::string> only_address) const {
    std::string subnet = "10.78." + std::to_string(index_) + ".0/24";
    if (kind_->type == "static") {
        return {{"type", "static"},
                {"addresses", {{{"address", "10.78." + std::to_string(index_) + ".5/24"}}}}};
    }
    json range = {{"subnet", subnet}};
    if (only_address) {
        range["rangeStart"] = *only_address;
        range["rangeEnd"] = *only_address;
    }
    return {{"type", "host-local"}, {"ranges", {{range}}}};
}

// The configuration the plugin under test gets (without prevResult).
json Suite::config(const std::string& version, const std::string& network,
                   std::optional<std::string> only_address, const std::string& container_id) const {
    json c = {{"cniVersion", version}, {"name", network}, {"type", kind_->type}};
    const auto& t = kind_->type;
    if (t == "bridge") {
        c["bridge"] = "cfbr" + std::to_string(index_);
        c["isGateway"] = true;
    } else if (t == "macvlan" || t == "ipvlan") {
        c["master"] = kMaster;
    } else if (t == "vlan") {
        c["master"] = kMaster;
        c["vlanId"] = 1 + serial(container_id) % 4000;
    } else if (t == "portmap") {
        c["capabilities"] = {{"portMappings", true}};
        c["runtimeConfig"] = {{"portMappings",
                               {{{"hostPort", 18000 + serial(container_id) % 20000},
                                 {"containerPort", 80},
                                 {"protocol", "tcp"}}}}};
    } else if (t == "bandwidth") {
        c["ingressRate"] = 8000000;
        c["ingressBurst"] = 800000;
        c["egressRate"] = 8000000;
        c["egressBurst"] = 800000;
    } else if (t == "tuning") {
        c["promisc"] = true;
    }
    if (kind_->role == Role::Interface || kind_->role == Role::Ipam) {
        c["ipam"] = ipam(std::move(only_address));
    }
    return c;
}

// The bridge a chained plugin runs after.
json Suite::base_config(const std::string& version, const std::string& network) const {
    return {{"cniVersion", version},
            {"name", network},
            {"type", "bridge"},
            {"bridge", "cfbr" + std::to_string(index_)},
            {"isGateway", true},
            {"ipam",
             {{"type", "host-local"},
              {"ranges", {{{{"subnet", "10.78." + std::to_string(index_) + ".0/24"}}}}}}}};
}

Reply Suite::add(const std::string& version, const std::string& network, const std::string& cid,
                 const ScratchNetns& ns, json* base_result,
                 std::optional<std::string> only_address) {
    json c = config(version, network, std::move(only_address), cid);
    if (kind_->role == Role::Chained) {
        auto base = invoke(
            binary("bridge"), dir_,
            {cni::Command::Add, cid, ns.path(), kIfname, base_config(version, network).dump(), {}});
        if (!base.ok) {
            base.msg = "bridge ADD before it: " + base.msg;
            return base;
        }
        c["prevResult"] = base.out;
        if (base_result) {
            *base_result = base.out;
        }
    }
    return raw(cni::Command::Add, c.dump(), cid, ns.path());
}

Reply Suite::del(const std::string& version, const std::string& network, const std::string& cid,
                 const std::string& netns, const json& prev, const json& base_prev) {
    json c = config(version, network, {}, cid);
    if (!prev.is_null() && compare_versions(version, "0.4.0") >= 0) {
        c["prevResult"] = prev;
    }
    auto r = raw(cni::Command::Del, c.dump(), cid, netns);
    if (kind_->role == Role::Chained) {
        json b = base_config(version, network);
        if (!base_prev.is_null() && compare_versions(version, "0.4.0") >= 0) {
            b["prevResult"] = base_prev;
        }
        auto base =
            invoke(binary("bridge"), dir_, {cni::Command::Del, cid, netns, kIfname, b.dump(), {}});
        if (r.ok && !base.ok) {
            base.msg = "bridge DEL after it: " + base.msg;
            return base;
        }
    }
    return r;
}

// One ADD and DEL before the first snapshot: a bridge is per network and stays after its last
// DEL (in the reference and in ours), so it is part of the baseline, not a leak.
void Suite::warm_up(const std::string& version) {
    ScratchNetns ns(unique_name("cfw-"));
    std::string cid = unique_name("cfw");
    json base;
    auto r = add(version, "cf-" + kind_->type + "-w", cid, ns, &base);
    (void)del(version, "cf-" + kind_->type + "-w", cid, ns.path(), r.out, base);
    ns.remove();
    baseline_ = snapshot();
}

void Suite::check_versions(const std::vector<std::string>& versions) {
    for (const auto& v : versions) {
        if (std::find(kSpecVersions.begin(), kSpecVersions.end(), v) == kSpecVersions.end()) {
            na("add " + v, "not a spec version this suite knows");
            continue;
        }
        if (kind_->role == Role::Chained && compare_versions(v, "0.3.0") < 0) {
            na("add " + v, "no chaining before 0.3.0");
            continue;
        }
        std::string net = "cf-" + kind_->type + "-v";
        std::string cid = unique_name("cfv");
        ScratchNetns ns(unique_name("cfv-"));
        json result;
        json base;
        bool added = false;
        check("add " + v, [&]() -> std::string {
            auto r = add(v, net, cid, ns, &base);
            if (!r.ok) {
                return "ADD " + r.describe();
            }
            added = true;
            result = r.out;
            bool sandbox = kind_->role == Role::Interface;
            return shape_problem(r.out, v, has_ipam() || kind_->type == "static", ns.path(),
                                 sandbox);
        });
        if (compare_versions(v, "0.4.0") >= 0) {
            if (!added) {
                na("check " + v, "ADD failed");
            } else {
                check("check " + v, [&]() -> std::string {
                    json c = config(v, net, {}, cid);
                    c["prevResult"] = result;
                    auto r = raw(cni::Command::Check, c.dump(), cid, ns.path());
                    return r.ok ? "" : "CHECK after ADD: " + r.describe();
                });
            }
        }
        check("del " + v, [&]() -> std::string {
            auto first = del(v, net, cid, ns.path(), result, base);
            if (!first.ok) {
                return "DEL: " + first.describe();
            }
            auto second = del(v, net, cid, ns.path(), result, base);
            if (!second.ok) {
                return "second DEL: " + second.describe();
            }
            auto inside = ns.links();
            if (!inside.empty()) {
                return "left in the container netns: " + inside.front();
            }
            return leaks();
        });
    }
}

// `good` with one value that is well-formed JSON of the right type but invalid for the key
// (SPEC.md code 7, "invalid network config"); nullopt for a plugin without such a key.
std::optional<json> Suite::invalid_value(json good) const {
    const auto& t = kind_->type;
    if (t == "macvlan" || t == "ipvlan") {
        good["mode"] = "no-such-mode";
    } else if (t == "vlan") {
        good["vlanId"] = 5000;
    } else if (t == "static") {
        good["ipam"]["addresses"] = {{{"address", "10.78.0.300/24"}}};
    } else if (t == "bridge" || t == "tap" || t == "host-local") {
        good["ipam"]["ranges"] = {{{{"subnet", "10.78.0.0/33"}}}};
    } else if (t == "portmap") {
        good["runtimeConfig"]["portMappings"][0]["hostPort"] = 70000;
    } else if (t == "tuning") {
        good["mac"] = "not-a-mac";
    } else if (t == "firewall") {
        good["backend"] = "no-such-backend";
    } else if (t == "bandwidth") {
        good["ingressRate"] = 8000000;
        good["ingressBurst"] = 0;
    } else {
        return std::nullopt;
    }
    return good;
}

void Suite::check_errors(const std::string& version) {
    ScratchNetns ns(unique_name("cfe-"));
    std::string cid = unique_name("cfe");
    std::string net = "cf-" + kind_->type + "-e";
    auto expect = [&](const std::string& name, int code, const Reply& r) {
        if (r.ok) {
            fail(name, "succeeded; expected error " + std::to_string(code));
        } else if (r.code != code) {
            fail(name, "error " + std::to_string(r.code) + " \"" + r.msg + "\"; expected " +
                           std::to_string(code));
        } else {
            pass(name, "error " + std::to_string(code));
        }
    };
    json good = config(version, net, {}, cid);
    json base;
    if (kind_->role == Role::Chained) {
        // A real interface to act on, so a check fails for its own reason, not a missing link.
        auto b = invoke(
            binary("bridge"), dir_,
            {cni::Command::Add, cid, ns.path(), kIfname, base_config(version, net).dump(), {}});
        base = b.ok ? b.out : json();
        good["prevResult"] = b.ok ? b.out
                                  : json{{"cniVersion", version},
                                         {"interfaces", json::array()},
                                         {"ips", json::array()}};
    }
    expect("unparseable config", 6,
           raw(cni::Command::Add, "{\"cniVersion\": \"1.0.0\", nope", cid, ns.path()));
    expect("missing CNI_CONTAINERID", 4,
           raw(cni::Command::Add, good.dump(), cid, ns.path(), {"CNI_CONTAINERID"}));
    expect("invalid CNI_IFNAME", 4,
           raw(cni::Command::Add, good.dump(), cid, ns.path(), {}, "bad/name"));
    json bad_version = good;
    bad_version["cniVersion"] = "99.0.0";
    expect("unsupported cniVersion", 1, raw(cni::Command::Add, bad_version.dump(), cid, ns.path()));
    json no_name = good;
    no_name.erase("name");
    expect("missing network name", 7, raw(cni::Command::Add, no_name.dump(), cid, ns.path()));
    if (auto bad = invalid_value(good)) {
        expect("invalid config value", 7, raw(cni::Command::Add, bad->dump(), cid, ns.path()));
    } else {
        na("invalid config value", "no key to get wrong");
    }
    // Whatever an accepted bad call did is undone before the leak checks that follow.
    (void)del(version, net, cid, ns.path(), json(), base);
    ns.remove();
    baseline_ = snapshot();
}

void Suite::check_del_cases(const std::string& version) {
    std::string net = "cf-" + kind_->type + "-d";
    check("del without add", [&]() -> std::string {
        ScratchNetns ns(unique_name("cfd-"));
        auto r = del(version, net, unique_name("cfd"), ns.path(), json(), json());
        return r.ok ? leaks() : "DEL: " + r.describe();
    });
    check("del after netns gone", [&]() -> std::string {
        std::string cid = unique_name("cfd");
        auto ns = std::make_unique<ScratchNetns>(unique_name("cfd-"));
        json base;
        auto a = add(version, net, cid, *ns, &base);
        if (!a.ok) {
            return "ADD " + a.describe();
        }
        std::string path = ns->path();
        ns.reset();
        auto r = del(version, net, cid, path, a.out, base);
        if (!r.ok) {
            return "DEL: " + r.describe();
        }
        return leaks(kNamespaceTeardown);
    });
}

void Suite::check_concurrency(const std::string& version) {
    if (!has_ipam()) {
        na("parallel adds", "no address pool");
        return;
    }
    check(
        "parallel adds",
        [&]() -> std::string {
            std::string net = "cf-" + kind_->type + "-p";
            std::vector<std::unique_ptr<ScratchNetns>> nss;
            std::vector<std::string> cids;
            for (int i = 0; i < kParallelAdds; ++i) {
                nss.push_back(std::make_unique<ScratchNetns>(unique_name("cfp-")));
                cids.push_back(unique_name("cfp"));
            }
            std::vector<Reply> replies(kParallelAdds);
            std::vector<std::thread> threads;
            for (int i = 0; i < kParallelAdds; ++i) {
                threads.emplace_back([&, i] {
                    replies[i] = raw(cni::Command::Add, config(version, net, {}, cids[i]).dump(),
                                     cids[i], nss[i]->path());
                });
            }
            for (auto& t : threads) {
                t.join();
            }
            std::string problem;
            std::set<std::string> seen;
            for (int i = 0; i < kParallelAdds; ++i) {
                if (!replies[i].ok) {
                    problem = "ADD " + std::to_string(i) + ": " + replies[i].describe();
                    continue;
                }
                for (const auto& a : addresses_of(replies[i].out)) {
                    if (!seen.insert(a).second && problem.empty()) {
                        problem = "address " + a + " handed out twice";
                    }
                }
            }
            for (int i = 0; i < kParallelAdds; ++i) {
                auto r = del(version, net, cids[i], nss[i]->path(), replies[i].out, json());
                if (!r.ok && problem.empty()) {
                    problem = "DEL " + std::to_string(i) + ": " + r.describe();
                }
            }
            nss.clear();
            if (problem.empty()) {
                problem = leaks();
            }
            return problem;
        },
        std::to_string(kParallelAdds) + " distinct addresses, nothing left");
}

void Suite::check_exhaustion(const std::string& version) {
    if (!has_ipam()) {
        na("ipam exhaustion", "no address pool");
        return;
    }
    check(
        "ipam exhaustion",
        [&]() -> std::string {
            std::string net = "cf-" + kind_->type + "-x";
            std::string only = "10.78." + std::to_string(index_) + ".200";
            ScratchNetns first(unique_name("cfx-"));
            ScratchNetns second(unique_name("cfx-"));
            std::string cid1 = unique_name("cfx");
            std::string cid2 = unique_name("cfx");
            auto a = add(version, net, cid1, first, nullptr, only);
            if (!a.ok) {
                return "first ADD: " + a.describe();
            }
            auto full = snapshot();
            auto b = add(version, net, cid2, second, nullptr, only);
            std::string problem;
            if (b.ok) {
                problem = "second ADD of a one-address range succeeded";
            } else if (auto left = difference(full, snapshot()); !left.empty()) {
                problem = "the failed ADD left: " + left;
            } else if (auto inside = second.links(); !inside.empty()) {
                problem = "the failed ADD left " + inside.front() + " in the container netns";
            }
            if (b.ok) {
                (void)del(version, net, cid2, second.path(), b.out, json());
            }
            (void)del(version, net, cid2, second.path(), json(), json());
            auto d = del(version, net, cid1, first.path(), a.out, json());
            if (problem.empty() && !d.ok) {
                problem = "DEL: " + d.describe();
            }
            first.remove();
            second.remove();
            return problem.empty() ? leaks() : problem;
        },
        "next ADD fails cleanly");
}

void Suite::check_rollback(const std::string& version) {
    if (kind_->role != Role::Interface) {
        na("rollback of failed add", "does not delegate to IPAM");
        return;
    }
    check(
        "rollback of failed add",
        [&]() -> std::string {
            ScratchNetns ns(unique_name("cfr-"));
            json c = config(version, "cf-" + kind_->type + "-r");
            c["ipam"] = {{"type", "cf-no-such-ipam"}};
            auto r = raw(cni::Command::Add, c.dump(), unique_name("cfr"), ns.path());
            if (r.ok) {
                return "ADD with a missing IPAM plugin succeeded";
            }
            if (auto inside = ns.links(); !inside.empty()) {
                return "failed ADD left " + inside.front() + " in the container netns";
            }
            return leaks();
        },
        "missing IPAM: nothing left");
}

void Suite::check_gc_status(bool claims_11) {
    if (!claims_11) {
        na("gc", "does not claim 1.1.0");
        na("status", "does not claim 1.1.0");
        return;
    }
    const std::string v = "1.1.0";
    std::string net = "cf-" + kind_->type + "-g";
    check(
        "gc",
        [&]() -> std::string {
            ScratchNetns keep_ns(unique_name("cfg-"));
            ScratchNetns stale_ns(unique_name("cfg-"));
            std::string keep = unique_name("cfg");
            std::string stale = unique_name("cfg");
            json keep_base;
            json stale_base;
            auto a = add(v, net, keep, keep_ns, &keep_base);
            auto b = add(v, net, stale, stale_ns, &stale_base);
            if (!a.ok || !b.ok) {
                return "ADD: " + (a.ok ? b : a).describe();
            }
            json c = config(v, net);
            json valid = {{{"containerID", keep}, {"ifname", kIfname}}};
            c["cni.dev/valid-attachments"] = valid;
            c["cni.dev/attachments"] = valid;
            auto g = raw(cni::Command::Gc, c.dump(), "", "");
            std::string problem;
            if (!g.ok) {
                problem = "GC: " + g.describe();
            } else if (has_ipam() && kind_->type != "static") {
                auto owners = [&](const std::string& cid) {
                    int n = 0;
                    std::error_code ec;
                    for (auto it = fs::recursive_directory_iterator(kLeaseDir / net, ec);
                         it != fs::recursive_directory_iterator(); it.increment(ec)) {
                        std::ifstream in(it->path());
                        std::string first;
                        std::getline(in, first);
                        n += first.starts_with(cid) ? 1 : 0;
                    }
                    return n;
                };
                if (owners(stale) != 0) {
                    problem = "GC kept the reservation of an attachment not in valid-attachments";
                } else if (owners(keep) == 0) {
                    problem = "GC released the reservation of a valid attachment";
                }
            }
            (void)del(v, net, stale, stale_ns.path(), b.out, stale_base);
            auto d = del(v, net, keep, keep_ns.path(), a.out, keep_base);
            if (problem.empty() && !d.ok) {
                problem = "DEL: " + d.describe();
            }
            keep_ns.remove();
            stale_ns.remove();
            return problem.empty() ? leaks() : problem;
        },
        "stale reservation released, valid one kept");
    check("status", [&]() -> std::string {
        auto r = raw(cni::Command::Status, config(v, net).dump(), "", "");
        return r.ok ? "" : "STATUS: " + r.describe();
    });
}

void Suite::run_plugin(const Kind& kind, int index) {
    kind_ = &kind;
    index_ = index;
    auto version_reply =
        invoke(binary(kind.type), dir_,
               {cni::Command::Version, "", "", "", R"({"cniVersion":"1.0.0"})", {}});
    std::vector<std::string> versions;
    auto problem = [&]() -> std::string {
        if (!version_reply.ok) {
            return "VERSION: " + version_reply.describe();
        }
        const auto& out = version_reply.out;
        if (!out.is_object() || !out.contains("cniVersion") || !out["cniVersion"].is_string() ||
            !out.contains("supportedVersions") || !out["supportedVersions"].is_array() ||
            out["supportedVersions"].empty()) {
            return "VERSION output lacks cniVersion or supportedVersions: " + out.dump();
        }
        for (const auto& v : out["supportedVersions"]) {
            if (!v.is_string()) {
                return "supportedVersions holds a non-string: " + v.dump();
            }
            versions.push_back(v.get<std::string>());
        }
        return "";
    }();
    if (!problem.empty()) {
        fail("version", problem);
        return;
    }
    pass("version", "claims " + version_reply.out["supportedVersions"].dump());
    std::string newest = *std::max_element(
        versions.begin(), versions.end(),
        [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
    if (compare_versions(newest, "1.1.0") > 0) {
        newest = "1.1.0";
    }
    std::string lacks = kernel_lacks(kind.kernel_kind);
    if (kind.role == Role::Chained && lacks.empty()) {
        if (!fs::exists(binary("bridge"))) {
            lacks = "needs the directory's bridge plugin to chain after";
        }
    }
    if (!lacks.empty()) {
        na("attachments", lacks);
        return;
    }
    warm_up(newest);
    check_errors(newest);
    check_versions(versions);
    check_del_cases(newest);
    check_concurrency(newest);
    check_exhaustion(newest);
    check_rollback(newest);
    check_gc_status(std::find(versions.begin(), versions.end(), "1.1.0") != versions.end());
}

void private_tmpfs(const char* dir) {
    fs::create_directories(dir);
    netlib::check_errno(::mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"),
                        "mount tmpfs", dir);
}

}  // namespace

const char* to_string(Outcome o) {
    switch (o) {
        case Outcome::Pass:
            return "PASS";
        case Outcome::Fail:
            return "FAIL";
        case Outcome::NotApplicable:
            return "N/A";
    }
    return "?";
}

const std::vector<std::string>& known_plugins() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& k : kinds()) {
            out.push_back(k.type);
        }
        return out;
    }();
    return names;
}

void enter_private_namespaces() {
    netlib::check_errno(::unshare(CLONE_NEWNET | CLONE_NEWNS), "unshare(CLONE_NEWNET|CLONE_NEWNS)",
                        "(needs root)");
    netlib::check_errno(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr),
                        "mount --make-rprivate", "/");
    for (const char* dir : {"/run/netns", "/var/lib/cni", "/run/cni"}) {
        private_tmpfs(dir);
    }
    auto sock = netlib::RouteSocket::open();
    netlib::set_up(sock, 1, true);  // lo is always ifindex 1
    // The parent link of macvlan, ipvlan and vlan attachments: one end of a veth pair that
    // stays in the suite's namespace.
    netlib::VethSpec master;
    master.host_name = kMaster;
    master.peer_name = "cfmaster1";
    (void)netlib::create_veth(sock, master);
}

std::vector<CheckResult> run(const Options& opts,
                             const std::function<void(const CheckResult&)>& report) {
    Suite suite(opts, report);
    int index = 0;
    for (const auto& kind : kinds()) {
        ++index;
        bool wanted = opts.only.empty() ||
                      std::find(opts.only.begin(), opts.only.end(), kind.type) != opts.only.end();
        if (wanted && fs::exists(fs::path(opts.plugin_dir) / kind.type)) {
            suite.run_plugin(kind, index);
        }
    }
    return std::move(suite.results);
}

}  // namespace sdnet::conformance
