#include "runtime/cli/command_line.hpp"

#include <algorithm>
#include <iostream>

#include "runtime/libcni/error.hpp"

namespace cli {

TopLevel parse_top_level(const std::vector<std::string>& args,
                         const po::options_description& globals,
                         const std::set<std::string>& with_value) {
    TopLevel top;
    while (top.command < args.size() && args[top.command].size() > 1 &&
           args[top.command][0] == '-' && args[top.command] != "--") {
        top.command += with_value.count(args[top.command]) != 0 ? 2 : 1;
    }
    top.command = std::min(top.command, args.size());
    po::options_description all;
    all.add_options()("help,h", "show this help")("version", "show the version");
    all.add(globals);
    try {
        std::vector<std::string> head(args.begin(), args.begin() + static_cast<long>(top.command));
        po::store(po::command_line_parser(head).options(all).run(), top.vm);
        po::notify(top.vm);
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }
    return top;
}

int main_of(int argc, char** argv, const std::string& program, ExitCodes codes,
            const std::function<int(const std::vector<std::string>&, std::string&)>& dispatch) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string context = program;
    try {
        return dispatch(args, context);
    } catch (const UsageError& e) {
        std::cerr << context << ": " << libcni::one_line(e.what()) << " (see '" << context
                  << " --help')\n";
        return codes.usage;
    } catch (const std::exception& e) {
        std::cerr << context << ": " << libcni::one_line(e.what()) << "\n";
        return codes.failure;
    }
}

}  // namespace cli
