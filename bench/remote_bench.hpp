#pragma once

#include "bench_report.hpp"

#include <vector>

namespace grainflow::bench {

/// grainflow-tcp: get_reply between two processes over TCP on loopback (a
/// server child process serves the adder), depth 1 and 64; then raw-tcp and
/// caf-remote in the same run, and the ratios.
void run_remote(bool quick);

/// The server side of grainflow-tcp when argv asks for it (`--serve
/// grainflow-tcp <report fd>`): returns true after serving until SIGTERM.
bool serve_grainflow_tcp(int argc, char** argv);

} // namespace grainflow::bench
