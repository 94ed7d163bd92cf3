#pragma once

#include "bench_report.hpp"

#include <string_view>
#include <vector>

namespace grainflow::bench {

/// grainflow-tcp (get_reply between two processes over TCP on loopback; a
/// server child process serves the adder), raw-tcp and caf-remote, depth 1
/// and 64, measured in turns (compare_remote); then the ratios.
void run_remote(bool quick);

/// The server side of grainflow-tcp when argv asks for it (`--serve
/// grainflow-tcp <report fd>`): returns true after serving until SIGTERM.
bool serve_grainflow_tcp(int argc, char** argv);

/// The server side of grainflow-shm (`--serve grainflow-shm <report fd>`).
bool serve_grainflow_shm(int argc, char** argv);

/// get_reply between this process and a server child on loopback, at depth
/// 1 and 64, appended to `results` and printed: `grainflow-shm` when
/// `shared_memory` (both sides move the session onto a shared-memory link
/// after the handshake), else `grainflow-tcp` (TCP forced on both sides).
void run_grainflow_pair(bool shared_memory, bool quick, std::vector<measurement>& results);

/// Prints `ours`/`other` at depth 1 and 64 for those found in `results`.
void print_ratios(const std::vector<measurement>& results, std::string_view ours,
                  std::string_view other);

} // namespace grainflow::bench
