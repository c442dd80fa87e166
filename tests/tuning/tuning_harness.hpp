#pragma once

#include <optional>
#include <string>

#include "tests/support/bridge_harness.hpp"

namespace sdnet::test {

inline constexpr const char* kReferenceTuning = "/usr/lib/cni/tuning";

// What `ip -j -d link show` says about an interface, in the terms of the tuning keys.
struct LinkState {
    std::string mac;
    int mtu = 0;
    bool promisc = false;
    bool allmulti = false;
    int txqlen = 0;

    bool operator==(const LinkState&) const = default;
};

std::ostream& operator<<(std::ostream& os, const LinkState& s);

// A container namespace with eth0, one end of a veth pair whose other end stays in the test's
// namespace: what a main plugin leaves for tuning to work on.
class TuningTest : public BridgeTest {
protected:
    void SetUp() override;

    // A container namespace `name` with its eth0 (and a result naming it).
    const TestNetns& container(const std::string& name);
    json prev_result(const TestNetns& ns, const std::string& version = "1.0.0") const;
    // {"cniVersion", "name": "tnet", "type": "tuning"} plus `keys`, with prevResult of `ns`.
    json conf(const TestNetns& ns, const json& keys, const std::string& version = "1.0.0") const;

    Call tuning(const std::string& command, const TestNetns& ns, const json& conf,
                const std::string& binary = "", const std::string& cni_args = "");

    LinkState link(const TestNetns& ns, const std::string& dev = "eth0") const;
    std::string sysctl(const TestNetns& ns, const std::string& path) const;
    // The saved-state file of the container of `ns`, if any.
    std::optional<std::string> saved(const TestNetns& ns,
                                     const std::string& dir = "/run/cni/tuning") const;

    const TestNetns& c1() const { return *c1_; }

private:
    std::optional<TestNetns> c1_;
    std::vector<std::unique_ptr<TestNetns>> more_;
};

}  // namespace sdnet::test
