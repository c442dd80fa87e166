#pragma once

#include <boost/program_options.hpp>
#include <cstddef>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

// What `sdnet` and `sdrun` share of their command lines: global options before a subcommand, a
// usage error type, and a main() that reports any error as one line and an exit status.
namespace cli {

namespace po = boost::program_options;

// A command line the user got wrong: one line with a pointer to --help.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The words before the subcommand, parsed against `globals` (plus --help and --version).
struct TopLevel {
    po::variables_map vm;
    std::size_t command = 0;  // index of the subcommand's name in args (args.size(): none)

    bool wants_help() const { return vm.count("help") != 0; }

    bool wants_version() const { return vm.count("version") != 0; }
};

// `with_value`: the global options that take a value, so that the value is not taken for the
// subcommand's name. Throws UsageError.
TopLevel parse_top_level(const std::vector<std::string>& args,
                         const po::options_description& globals,
                         const std::set<std::string>& with_value);

// Exit statuses main_of() returns for a UsageError and for any other error.
struct ExitCodes {
    int usage;
    int failure;
};

// Runs `dispatch` on argv[1..]; `context` starts as `program` and dispatch sets it to the
// subcommand ("sdnet attach") so that an error names it: "<context>: <message>".
int main_of(int argc, char** argv, const std::string& program, ExitCodes codes,
            const std::function<int(const std::vector<std::string>&, std::string&)>& dispatch);

}  // namespace cli
