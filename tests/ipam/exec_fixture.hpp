#pragma once

#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "netlib/ip.hpp"
#include "plugin_exec.hpp"
#include "tests/support/temp_dir.hpp"

namespace ipam::test {

using sdnet::test::read_file;
using sdnet::test::TempDir;
using sdnet::test::write_file;

// A network "net1" with a private dataDir, and helpers to run our host-local binary and the
// reference on it.
class HostLocalExecTest : public ::testing::Test {
protected:
    TempDir tmp_;
    std::filesystem::path net_ = tmp_.path() / "net1";
    std::string version_ = "1.0.0";  // the newest the installed reference (v1.1.1) accepts
    nlohmann::json ipam_ = {
        {"type", "host-local"},
        {"dataDir", tmp_.str()},
        {"ranges", nlohmann::json::array({nlohmann::json::array({{{"subnet", "10.5.0.0/24"}}})})}};

    nlohmann::json config(const nlohmann::json& extra = nlohmann::json::object()) const {
        nlohmann::json c = {
            {"cniVersion", version_}, {"name", "net1"}, {"type", "bridge"}, {"ipam", ipam_}};
        c.update(extra);
        return c;
    }

    Exec run_with(const std::string& binary, const std::string& command, const std::string& id,
                  const nlohmann::json& extra = nlohmann::json::object(),
                  const std::string& args = {}, const std::string& ifname = "eth0") const {
        return run(binary, cni_env(command, id, ifname, args), config(extra).dump());
    }

    Exec ours(const std::string& command, const std::string& id,
              const nlohmann::json& extra = nlohmann::json::object(), const std::string& args = {},
              const std::string& ifname = "eth0") const {
        return run_with(our_host_local(), command, id, extra, args, ifname);
    }

    Exec ref(const std::string& command, const std::string& id,
             const nlohmann::json& extra = nlohmann::json::object(), const std::string& args = {},
             const std::string& ifname = "eth0") const {
        return run_with(kReferenceHostLocal, command, id, extra, args, ifname);
    }

    // ADD with ours; the first address of the result ("10.5.0.2").
    std::string add_ip(const std::string& id,
                       const nlohmann::json& extra = nlohmann::json::object(),
                       const std::string& args = {}) const {
        auto e = ours("ADD", id, extra, args);
        EXPECT_EQ(e.status, 0) << e.out << e.err;
        if (e.status != 0) {
            return {};
        }
        return address_of(e, 0);
    }

    static std::string address_of(const Exec& e, std::size_t i) {
        std::string cidr = e.json()["ips"][i]["address"];
        return cidr.substr(0, cidr.find('/'));
    }

    // Every reservation file of the network: address -> content.
    std::map<std::string, std::string> reservations() const {
        std::map<std::string, std::string> out;
        if (!std::filesystem::exists(net_)) {
            return out;
        }
        for (const auto& e : std::filesystem::directory_iterator(net_)) {
            std::string name = e.path().filename();
            if (e.is_regular_file() && netlib::IpAddr::try_parse(name)) {
                out[name] = read_file(e.path());
            }
        }
        return out;
    }

    static bool reference_installed() { return std::filesystem::exists(kReferenceHostLocal); }
};

}  // namespace ipam::test
