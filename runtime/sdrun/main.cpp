// sdrun: run containers from imported rootfs images (phase 1 of the runtime).
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "runtime/container/error.hpp"
#include "runtime/sdrun/cli.hpp"

namespace sdrun::cli {

const std::vector<Subcommand>& subcommands() {
    static const std::vector<Subcommand> kCommands = {
        {"run", "[options] IMAGE [CMD...]", "run a command in a new container and wait for it",
         "Run CMD from IMAGE in new pid, mount, uts, ipc and network namespaces\n"
         "(loopback only) on an OverlayFS root, with docker's default capabilities and\n"
         "no_new_privs. Exits with the command's status (128+N when signal N killed it; 137 and\n"
         "\"OOM killed\" on stderr when the memory limit did); 125 when sdrun itself failed, 126\n"
         "when CMD is not executable, 127 when it is not found.",
         cmd_run},
        {"image import", "NAME FILE", "import a rootfs tarball (tar, tar.gz) as image NAME",
         "Unpack FILE, a tarball of a root filesystem (tar, optionally gzip/bzip2/xz/zstd\n"
         "compressed), into the image store as NAME and record its sha256. Entries that would\n"
         "escape the rootfs ('..', absolute paths, writes through symlinks) and device nodes\n"
         "are refused and nothing is stored.",
         cmd_image_import},
        {"image ls", "[--json]", "list imported images", "List the imported images.", cmd_image_ls},
        {"image rm", "NAME", "remove an image", "Remove image NAME from the store.", cmd_image_rm},
    };
    return kCommands;
}

namespace {

constexpr const char* kDefaultRoot = "/var/lib/sdrun";

void print_usage(std::ostream& out, const po::options_description& globals) {
    out << "Usage: sdrun [global options] COMMAND [ARGS] [options]\n\n"
           "Run containers from rootfs images imported into a local store.\n\nCommands:\n";
    for (const auto& c : subcommands()) {
        out << "  " << c.name << std::string(c.name.size() < 14 ? 14 - c.name.size() : 1, ' ')
            << c.summary << "\n";
    }
    out << "\n" << globals << "\nRun 'sdrun COMMAND --help' for a command's options.\n";
}

// Index of the command name: global options come first.
std::size_t command_index(const std::vector<std::string>& args) {
    std::size_t i = 0;
    while (i < args.size() && args[i].size() > 1 && args[i][0] == '-') {
        i += args[i] == "--root" ? 2 : 1;
    }
    return std::min(i, args.size());
}

int dispatch(const std::vector<std::string>& args, std::string& context) {
    std::string root;
    po::options_description globals("Global options");
    globals.add_options()("root", po::value(&root)->default_value(kDefaultRoot),
                          "store of images and containers")("help,h", "show this help")(
        "version", "show the version");
    auto cmd = command_index(args);
    po::variables_map vm;
    try {
        std::vector<std::string> head(args.begin(), args.begin() + static_cast<long>(cmd));
        po::store(po::command_line_parser(head).options(globals).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }
    if (vm.count("help") != 0) {
        print_usage(std::cout, globals);
        return 0;
    }
    if (vm.count("version") != 0) {
        std::cout << "sdrun " << SDNET_VERSION << "\n";
        return 0;
    }
    if (cmd == args.size()) {
        throw UsageError("missing command");
    }
    std::string name = args[cmd];
    if (name == "image" && cmd + 1 < args.size()) {
        name += " " + args[++cmd];
    }
    Invocation inv{{args.begin() + static_cast<long>(cmd) + 1, args.end()}, root, std::cout};
    for (const auto& c : subcommands()) {
        if (c.name == name) {
            context = "sdrun " + name;
            return c.run(inv);
        }
    }
    throw UsageError("unknown command \"" + name + "\"");
}

// Error texts may span lines (libarchive's); the CLI reports one.
std::string one_line(std::string text) {
    for (auto& c : text) {
        if (c == '\n') {
            c = ' ';
        }
    }
    return text;
}

}  // namespace
}  // namespace sdrun::cli

int main(int argc, char** argv) {
    using namespace sdrun::cli;
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string context = "sdrun";
    try {
        return dispatch(args, context);
    } catch (const UsageError& e) {
        std::cerr << context << ": " << one_line(e.what()) << " (see '" << context << " --help')\n";
    } catch (const std::exception& e) {
        std::cerr << context << ": " << one_line(e.what()) << "\n";
    }
    return kExitRuntimeError;
}
