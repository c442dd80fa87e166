#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "netlib/ip.hpp"
#include "plugins/cni/version.hpp"

namespace cni {

using nlohmann::json;

// One interface a plugin created or touched. `sandbox` is the netns path for container
// interfaces and empty for host ones. mtu/socketPath/pciID exist from spec 1.1.0 on.
struct Interface {
    std::string name;
    std::string mac;
    std::optional<int> mtu;
    std::string sandbox;
    std::string socket_path;
    std::string pci_id;

    bool operator==(const Interface&) const = default;
};

struct IpConfig {
    netlib::IpNet address;  // interface address with prefix, "10.1.0.5/24"
    std::optional<netlib::IpAddr> gateway;
    std::optional<int> interface;  // index into Result::interfaces

    bool operator==(const IpConfig&) const = default;
};

struct Route {
    netlib::IpNet dst;
    std::optional<netlib::IpAddr> gw;
    std::optional<int> mtu;
    std::optional<int> advmss;
    std::optional<int> priority;
    std::optional<int> table;
    std::optional<int> scope;

    bool operator==(const Route&) const = default;
};

struct Dns {
    std::vector<std::string> nameservers;
    std::string domain;
    std::vector<std::string> search;
    std::vector<std::string> options;

    bool empty() const {
        return nameservers.empty() && domain.empty() && search.empty() && options.empty();
    }

    bool operator==(const Dns&) const = default;
};

// A plugin result, held in the newest (1.1.0) shape and converted on output.
struct Result {
    std::vector<Interface> interfaces;
    std::vector<IpConfig> ips;
    std::vector<Route> routes;
    Dns dns;

    bool operator==(const Result&) const = default;
};

// Parses a result of any supported version (0.1.0 "ip4"/"ip6" form included); the version is
// taken from its "cniVersion". Throws cni::Error(Decode) naming the bad field.
Result parse_result(const json& j);
Dns parse_dns(const json& j);
Route parse_route(const json& j);

// Prints `r` in version `v`, with the spec's conversions (ips[].version for 0.3.x/0.4.0; one
// address per family for 0.1.0/0.2.0, which fails with code 1 if there is none).
json to_json(const Result& r, const Version& v);
json to_json(const Dns& d);
json to_json(const Route& r);

}  // namespace cni
