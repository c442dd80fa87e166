#pragma once

#include <string>
#include <vector>

#include "runtime/container/spec.hpp"

// Resource limits: docker's --ulimit syntax and applying them in the container.
namespace sdrun {

// "nofile=1024[:2048]" with docker's names (core, cpu, data, fsize, locks, memlock, msgqueue,
// nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack, as); -1 is unlimited, the hard
// limit defaults to the soft one. Throws sdrun::Error for an unknown name, a bad number or a
// soft limit above the hard one.
Rlimit parse_ulimit(const std::string& text);

// setrlimit for each; throws sdrun::Error naming the limit (raising a hard limit needs
// CAP_SYS_RESOURCE).
void apply_rlimits(const std::vector<Rlimit>& limits);

}  // namespace sdrun
