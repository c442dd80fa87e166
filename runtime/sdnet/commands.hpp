#pragma once

#include "runtime/sdnet/cli.hpp"

// One function per subcommand, each in its own cmd_<name>.cpp. They return the exit status and
// throw UsageError or any std::exception for main() to report as one line.
namespace sdnet {

int cmd_attach(Invocation& inv);
int cmd_detach(Invocation& inv);
int cmd_check(Invocation& inv);
int cmd_status(Invocation& inv);
int cmd_gc(Invocation& inv);
int cmd_ls(Invocation& inv);
int cmd_ps(Invocation& inv);
int cmd_show(Invocation& inv);
int cmd_netns(Invocation& inv);
int cmd_conformance(Invocation& inv);

}  // namespace sdnet
