#include "runtime/sdrun/cli.hpp"

#include <iostream>

namespace sdrun::cli {
namespace {

const Subcommand& find(const std::string& name) {
    for (const auto& c : subcommands()) {
        if (c.name == name) {
            return c;
        }
    }
    throw UsageError("unknown command \"" + name + "\"");
}

bool takes_value(const po::options_description& options, const std::string& arg) {
    auto name = arg.substr(0, arg.find('='));
    if (name != arg) {
        return false;  // --opt=value
    }
    bool long_name = name.rfind("--", 0) == 0;
    if (!long_name && name.size() != 2) {
        return false;  // -mVALUE
    }
    // boost matches long names without their dashes, short ones with theirs ("-m").
    auto* opt = options.find_nothrow(long_name ? name.substr(2) : name, false, false, false);
    return opt != nullptr && opt->semantic()->max_tokens() > 0;
}

// Index of the first positional argument in `args` (options before it may take values).
std::size_t first_positional(const po::options_description& options,
                             const std::vector<std::string>& args) {
    std::size_t i = 0;
    while (i < args.size() && args[i].size() > 1 && args[i][0] == '-' && args[i] != "--") {
        i += takes_value(options, args[i]) ? 2 : 1;
    }
    return std::min(i, args.size());
}

}  // namespace

std::optional<Parsed> parse(Invocation& inv, const std::string& command,
                            po::options_description options,
                            const std::vector<std::string>& positional, bool takes_rest) {
    options.add_options()("help,h", "show this help");
    Parsed p;
    auto args = inv.args;
    // Options end at the last named positional: what follows belongs to the container's command.
    if (takes_rest) {
        std::size_t at = first_positional(options, args);
        for (std::size_t n = 1; n < positional.size() && at < args.size(); ++n) {
            auto next =
                std::vector<std::string>(args.begin() + static_cast<long>(at) + 1, args.end());
            at += 1 + first_positional(options, next);
        }
        if (at < args.size()) {
            p.rest.assign(args.begin() + static_cast<long>(at) + 1, args.end());
            args.resize(at + 1);
        }
    }
    po::options_description hidden;
    hidden.add_options()("positional", po::value<std::vector<std::string>>());
    po::options_description all;
    all.add(options).add(hidden);
    po::positional_options_description pos;
    pos.add("positional", -1);
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), p.vm);
        if (p.vm.count("help") != 0) {
            const auto& c = find(command);
            inv.out << "Usage: sdrun " << c.name << " " << c.usage << "\n\n"
                    << c.description << "\n\n"
                    << options;
            return std::nullopt;
        }
        po::notify(p.vm);
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }
    if (p.vm.count("positional") != 0) {
        p.positional = p.vm["positional"].as<std::vector<std::string>>();
    }
    if (p.positional.size() < positional.size()) {
        throw UsageError("missing " + positional[p.positional.size()]);
    }
    if (p.positional.size() > positional.size()) {
        throw UsageError("unexpected argument \"" + p.positional[positional.size()] + "\"");
    }
    return p;
}

}  // namespace sdrun::cli
