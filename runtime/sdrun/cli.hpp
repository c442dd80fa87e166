#pragma once

#include <boost/program_options.hpp>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/cli/command_line.hpp"
#include "runtime/container/image_store.hpp"

// Plumbing of the `sdrun` subcommands. Only this executable prints; the library throws.
namespace sdrun::cli {

namespace po = boost::program_options;

// docker's exit codes: 125 the runtime failed (bad flag, no image, setup error), 126 the
// command cannot be invoked, 127 it was not found.
constexpr int kExitRuntimeError = 125;
constexpr int kExitNotExecutable = 126;
constexpr int kExitNotFound = 127;

// A command line the user got wrong: one line with a pointer to --help, exit 125.
using UsageError = ::cli::UsageError;

struct Invocation {
    std::vector<std::string> args;  // after the subcommand's name(s)
    std::filesystem::path root;     // --root: images/ and containers/ live here
    std::ostream& out;
};

struct Subcommand {
    std::string name;     // "run", "image import"
    std::string usage;    // "[options] IMAGE [CMD...]"
    std::string summary;  // one line for `sdrun --help`
    std::string description;
    std::function<int(Invocation&)> run;
};

const std::vector<Subcommand>& subcommands();

int cmd_run(Invocation& inv);
int cmd_image_import(Invocation& inv);
int cmd_image_ls(Invocation& inv);
int cmd_image_inspect(Invocation& inv);
int cmd_image_rm(Invocation& inv);

// Image `name` for `run`; a default image (busybox, written by scripts/setup) is imported on
// first use, as docker pulls an image it does not have.
ImageInfo image_for_run(ImageStore& images, const std::string& name);

// Parses `args` against `options` and the positional names (all required). Arguments from the
// first positional beyond `positional` on are returned in `rest` untouched (a command's own
// flags). Returns nullopt after printing help for --help/-h. Throws UsageError.
struct Parsed {
    po::variables_map vm;
    std::vector<std::string> positional;
    std::vector<std::string> rest;
};

std::optional<Parsed> parse(Invocation& inv, const std::string& command,
                            po::options_description options,
                            const std::vector<std::string>& positional, bool takes_rest);

}  // namespace sdrun::cli
