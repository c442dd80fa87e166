#pragma once

#include <boost/program_options.hpp>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/cli/command_line.hpp"
#include "runtime/libcni/conf.hpp"
#include "runtime/libcni/runtime.hpp"

// Shared plumbing of the `sdnet` subcommands: global options, argument parsing, defaults that
// depend on where the executable runs from, and output helpers. Only this executable prints.
namespace sdnet {

namespace po = boost::program_options;
using nlohmann::json;

// A command line the user got wrong: printed as one line with a pointer to --help, exit 2.
using UsageError = cli::UsageError;

// Options every subcommand accepts, before or after its name.
struct Globals {
    std::optional<std::string> conf_dir;
    std::optional<std::string> plugin_dir;  // ':'-separated
    std::optional<std::string> cache_dir;

    // --conf-dir, else /etc/cni/net.d, else (from a build tree) the repository's conf/.
    std::filesystem::path resolved_conf_dir() const;
    // --plugin-dir, else CNI_PATH, else [<build>/cni,] the install dir (SDNET_CNI_INSTALL_DIR,
    // /opt/cni/bin by default), /opt/cni/bin.
    std::vector<std::string> resolved_plugin_path() const;
    std::filesystem::path resolved_cache_dir() const;

    libcni::Runtime runtime() const;
    libcni::NetworkList load(const std::string& network) const;
};

po::options_description global_options(Globals& g);

// What a subcommand's run function gets.
struct Invocation {
    std::string name;               // "attach"
    std::vector<std::string> args;  // everything after the subcommand name
    Globals globals;
    std::ostream& out;
};

// A subcommand: its usage line, a one-line summary, a longer description and its entry point.
struct Subcommand {
    std::string name;
    std::string usage;    // "NET NETNS [options]"
    std::string summary;  // for `sdnet --help`
    std::function<int(Invocation&)> run;
};

const std::vector<Subcommand>& subcommands();

// Parses a subcommand's arguments against `options` (the global options are added) and the
// positional names in `positional` (all required unless listed in `optional_positional`).
// Returns nullopt after printing help for --help/-h. Throws UsageError.
struct ParseSpec {
    std::string description;  // shown under the usage line in --help
    po::options_description options{"Options", 100, 50};
    std::vector<std::string> positional;  // e.g. {"net", "netns"}
    int optional_positional = 0;          // how many trailing positionals may be omitted
};

std::optional<po::variables_map> parse(Invocation& inv, ParseSpec& spec);

// The NETNS/--ifname/--id triple of attach, detach and check.
struct Target {
    std::string network;
    std::string netns;  // absolute path
    std::string ifname;
    std::string container_id;
};

void add_target_options(ParseSpec& spec);
Target target_from(const po::variables_map& vm);

// The cache entry of a target, if one can be read (a corrupt one counts as absent).
std::optional<libcni::CacheEntry> cached_entry(const libcni::Runtime& rt, const Target& t);

// `value` padded to `width` columns (for tables).
std::string pad(const std::string& value, std::size_t width);

// The addresses of a result, "10.0.0.2/24" each, in order; empty if it cannot be parsed.
std::vector<std::string> result_addresses(const json& result);

}  // namespace sdnet
