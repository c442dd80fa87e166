// sdrun: run containers from imported rootfs images (phase 1 of the runtime).
#include <iostream>
#include <string>
#include <vector>

#include "runtime/container/error.hpp"
#include "runtime/container/run_record.hpp"
#include "runtime/sdrun/cli.hpp"

namespace sdrun::cli {

const std::vector<Subcommand>& subcommands() {
    static const std::vector<Subcommand> kCommands = {
        {"run", "[options] IMAGE [CMD...]", "run a command in a new container and wait for it",
         "Run CMD from IMAGE in new pid, mount, uts, ipc and network namespaces\n"
         "(loopback only) on an OverlayFS root, with docker's default capabilities, no_new_privs\n"
         "and a seccomp profile modelled on docker's; PID 1 is a small init (sdrun-init) that\n"
         "reaps zombies and forwards signals. Exits with the command's status (128+N when\n"
         "signal N killed it; 137 and \"OOM killed\" on stderr when the memory limit did); 125\n"
         "when sdrun itself failed, 126 when CMD is not executable, 127 when it is not found.\n"
         "As docker does, the image's Entrypoint comes before CMD, its Cmd stands in for a\n"
         "missing CMD, and its Env, WorkingDir and User apply unless -e, -w and -u say otherwise.",
         cmd_run},
        {"image import", "[--platform P] NAME FILE",
         "import a rootfs tarball, OCI layout or docker save archive",
         "Import FILE as image NAME: a tarball of a root filesystem (tar, optionally\n"
         "gzip/bzip2/xz/zstd compressed), an OCI image layout (a tar of one, or its\n"
         "directory) or a `docker save` archive. Every blob is checked against its sha256\n"
         "digest first; layers are unpacked once into <root>/layers and shared between images.\n"
         "From a multi-platform index the host's platform is taken, or --platform's; an image\n"
         "for another platform is refused unless --platform names it. Entries that would\n"
         "escape the layer ('..', absolute paths, writes through symlinks, hard links out) and\n"
         "device nodes are refused; on any refusal nothing is stored.",
         cmd_image_import},
        {"image ls", "[--json]", "list imported images", "List the imported images.", cmd_image_ls},
        {"image inspect", "NAME", "print an image's metadata as JSON",
         "Print image NAME as JSON: id, digest, format, layers (bottom first), config (Env,\n"
         "Entrypoint, Cmd, WorkingDir, User, ExposedPorts), os, architecture, created.",
         cmd_image_inspect},
        {"image rm", "NAME", "remove an image",
         "Remove image NAME from the store, and the layers no other image uses. Refused while\n"
         "a container (a directory in <root>/containers) uses it.",
         cmd_image_rm},
    };
    return kCommands;
}

namespace {

constexpr const char* kDefaultRoot = "/var/lib/sdrun";

void print_usage(std::ostream& out, const po::options_description& globals) {
    out << "Usage: sdrun [global options] COMMAND [ARGS] [options]\n\n"
           "Run containers from images imported into a local store (rootfs tarballs, OCI\n"
           "layouts, docker save archives; busybox, written by scripts/setup, on first use).\n\n"
           "Commands:\n";
    for (const auto& c : subcommands()) {
        out << "  " << c.name << std::string(c.name.size() < 15 ? 15 - c.name.size() : 1, ' ')
            << c.summary << "\n";
    }
    out << "\n" << globals << "\nRun 'sdrun COMMAND --help' for a command's options.\n";
}

int dispatch(const std::vector<std::string>& args, std::string& context) {
    std::string root;
    po::options_description globals("Global options");
    globals.add_options()("root", po::value(&root)->default_value(kDefaultRoot),
                          "store of images and containers");
    auto top = ::cli::parse_top_level(args, globals, {"--root"});
    if (top.wants_help()) {
        print_usage(std::cout, globals);
        return 0;
    }
    if (top.wants_version()) {
        std::cout << "sdrun " << SDNET_VERSION << "\n";
        return 0;
    }
    std::size_t cmd = top.command;
    if (cmd == args.size()) {
        throw UsageError("missing command");
    }
    std::string name = args[cmd];
    if (name == "image" && cmd + 1 < args.size()) {
        name += " " + args[++cmd];
    }
    Invocation inv{{args.begin() + static_cast<long>(cmd) + 1, args.end()}, root, std::cout};
    // Whatever a killed sdrun left (its container died with it), before anything else.
    clean_stale_runs(root);
    for (const auto& c : subcommands()) {
        if (c.name == name) {
            context = "sdrun " + name;
            return c.run(inv);
        }
    }
    throw UsageError("unknown command \"" + name + "\"");
}

}  // namespace
}  // namespace sdrun::cli

int main(int argc, char** argv) {
    using namespace sdrun::cli;
    return ::cli::main_of(argc, argv, "sdrun", {kExitRuntimeError, kExitRuntimeError}, dispatch);
}
