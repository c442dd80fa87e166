// sdnet: attach network namespaces to CNI networks, as libcni-based runtimes do.
#include <iostream>
#include <string>
#include <vector>

#include "runtime/cli/command_line.hpp"
#include "runtime/sdnet/commands.hpp"

namespace sdnet {

const std::vector<Subcommand>& subcommands() {
    static const std::vector<Subcommand> kCommands = {
        {"attach", "NET NETNS [options]", "attach a network namespace to a network (CNI ADD)",
         cmd_attach},
        {"detach", "NET NETNS [options]", "detach it again (CNI DEL)", cmd_detach},
        {"check", "NET NETNS [options]", "verify an attachment (CNI CHECK)", cmd_check},
        {"status", "NET [options]", "ask a network's plugins whether they are ready (CNI STATUS)",
         cmd_status},
        {"gc", "NET [options]", "release attachments whose netns is gone (CNI GC)", cmd_gc},
        {"ls", "[options]", "list networks and their plugin chains", cmd_ls},
        {"ps", "[options]", "list attachments recorded in the result cache", cmd_ps},
        {"show", "[NET] [options]", "show bridges, veths, namespaces and addresses", cmd_show},
        {"netns", "add|del|ls [NAME] [options]", "manage named network namespaces", cmd_netns},
        {"conformance", "--plugins DIR [options]",
         "run the CNI conformance suite against a plugin directory", cmd_conformance},
    };
    return kCommands;
}

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

void print_usage(std::ostream& out, const po::options_description& globals) {
    out << "Usage: sdnet [global options] COMMAND [ARGS] [options]\n\n"
           "Attach network namespaces to CNI networks the way container runtimes do, with the\n"
           "same configuration files, plugins and result cache as podman and containerd.\n\n"
           "Commands:\n";
    for (const auto& c : subcommands()) {
        out << "  " << pad(c.name, 8) << c.summary << "\n";
    }
    out << "\n" << globals << "\nRun 'sdnet COMMAND --help' for a command's options.\n";
}

int run(const std::vector<std::string>& args, std::string& context) {
    Invocation inv{"", {}, {}, std::cout};
    auto globals = global_options(inv.globals);
    auto top = cli::parse_top_level(args, globals, {"--conf-dir", "--plugin-dir", "--cache-dir"});
    if (top.wants_help()) {
        print_usage(std::cout, globals);
        return 0;
    }
    if (top.wants_version()) {
        std::cout << "sdnet " << SDNET_VERSION << "\n";
        return 0;
    }
    std::size_t cmd = top.command;
    if (cmd == args.size()) {
        throw UsageError("missing command");
    }
    inv.name = args[cmd];
    inv.args.assign(args.begin() + static_cast<long>(cmd) + 1, args.end());
    for (const auto& c : subcommands()) {
        if (c.name == inv.name) {
            context = "sdnet " + inv.name;
            return c.run(inv);
        }
    }
    throw UsageError("unknown command \"" + inv.name + "\"");
}

}  // namespace
}  // namespace sdnet

int main(int argc, char** argv) {
    return cli::main_of(argc, argv, "sdnet", {sdnet::kExitUsage, sdnet::kExitFailure}, sdnet::run);
}
