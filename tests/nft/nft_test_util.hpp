#pragma once

// Helpers for the nftables tests: a private network namespace per test, extra namespaces for
// traffic tests, `nft -j` as an independent observer and small UDP probes.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "netlib/fd.hpp"
#include "netlib/ip.hpp"

namespace nfttest {

// Moves the test process into a fresh network namespace; skips the test if that is not
// permitted, unless SDNET_REQUIRE_NETNS=1 (then it fails).
class NetnsTest : public ::testing::Test {
protected:
    void SetUp() override;
};

// Runs argv (PATH lookup), optionally inside `netns`; returns the exit status (127: not found).
int run(const std::vector<std::string>& argv, const netlib::Fd* netns = nullptr);
// Like run, failing the test with the command line on a non-zero status.
void must_run(const std::vector<std::string>& argv, const netlib::Fd* netns = nullptr);
// Runs argv and returns its stdout.
std::string capture(const std::vector<std::string>& argv);

// `nft -j list ruleset` of the current namespace.
nlohmann::json nft_ruleset();

// One set or map element as nft prints it: key ("10.0.0.2", "veth1 . 02:00:00:00:00:01"),
// comment and, for verdict maps, the jump target.
struct JsonElem {
    std::string key;
    std::string comment;
    std::string jump;

    auto operator<=>(const JsonElem&) const = default;
};

// For gtest's failure messages (it would print raw bytes).
inline void PrintTo(const JsonElem& e, std::ostream* os) {
    *os << '{' << e.key << " comment \"" << e.comment << '"' << (e.jump.empty() ? "" : " jump ")
        << e.jump << '}';
}

// The elements of set or map `name` of table `family table`, nullopt if there is no such set.
std::optional<std::vector<JsonElem>> json_elems(const nlohmann::json& ruleset,
                                                const std::string& family, const std::string& table,
                                                const std::string& name);
// Names of the chains of a table.
std::vector<std::string> json_chains(const nlohmann::json& ruleset, const std::string& family,
                                     const std::string& table);
bool json_has_table(const nlohmann::json& ruleset, const std::string& family,
                    const std::string& table);

// A new network namespace, kept alive by the returned fd; the caller stays where it was.
netlib::Fd make_netns();
// The path another process can open to reach `ns` ("/proc/<pid>/fd/<n>").
std::string netns_path(const netlib::Fd& ns);

// Switches the calling thread to `ns` for the lifetime of the guard.
class InNetns {
public:
    explicit InNetns(const netlib::Fd& ns);
    ~InNetns();
    InNetns(const InNetns&) = delete;
    InNetns& operator=(const InNetns&) = delete;

private:
    netlib::Fd home_;
};

// Writes a sysctl of the current namespace, e.g. ("net/ipv4/ip_forward", "1").
void write_sysctl(const std::string& key, const std::string& value);

// Sends UDP datagrams from a socket in `from` to `dst` (a socket bound in `to`) and returns the
// source address the receiver sees, or nullopt if nothing arrived after `tries` datagrams sent
// 300 ms apart.
std::optional<netlib::IpAddr> udp_source_seen(const netlib::Fd& from, const netlib::Fd& to,
                                              const netlib::IpAddr& dst, int tries = 10);

}  // namespace nfttest
