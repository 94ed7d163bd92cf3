#pragma once

namespace grainflow::bench {

/// shm-link: the bare shared-memory link between two processes (a server
/// child started from this executable): the round trip of a 64-byte message
/// at depth 1, and one-way throughput of 64-byte messages at depth 64 (the
/// link's ring holds 64 such messages, so at most 64 are in flight;
/// req_per_s is then messages per second).
/// Then grainflow-tcp and grainflow-shm (get_reply between two processes,
/// TCP forced and over the shared-memory link the transports choose), depth
/// 1 and 64, and their ratios.
void run_shm(bool quick);

/// The server side of shm-link when argv asks for it (`--serve shm-link
/// <report fd>`): returns true after serving until SIGTERM.
bool serve_shm_link(int argc, char** argv);

} // namespace grainflow::bench
