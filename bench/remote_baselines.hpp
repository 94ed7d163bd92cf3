#pragma once

/// @file
/// What grainflow's remote request/reply is compared with, measured between
/// two processes over loopback (127.0.0.1, ephemeral ports): the parent runs
/// the client, a child started through child_process runs the server.
///
/// - raw-tcp: a blocking TCP ping-pong of plain POSIX sockets moving the same
///   number of bytes per request and reply as grainflow: the floor that any
///   TCP transport on this machine sits on.
/// - caf-remote: CAF's io::middleman, `(int32, int32) -> int32` from an
///   event-based actor to a published actor in the other process.

#include "bench_report.hpp"
#include "remote_contender.hpp"

#include <cstddef>
#include <vector>

namespace grainflow::bench {

/// Bytes of one raw-tcp request. The default is about one framed grainflow
/// request of two int32 arguments; set it to grainflow's measured request
/// packet size to compare like with like. At least 8 (the two int32).
inline constexpr std::size_t raw_tcp_request_bytes = 80;

/// Bytes of one raw-tcp reply: about one framed grainflow reply of one int32.
/// At least 4 (the sum).
inline constexpr std::size_t raw_tcp_reply_bytes = 40;

/// The message sizes raw-tcp moves. The server learns them from its command
/// line, so client and server always agree.
struct raw_tcp_sizes {
  std::size_t request_bytes = raw_tcp_request_bytes;
  std::size_t reply_bytes = raw_tcp_reply_bytes;
};

/// Starts raw-tcp and caf-remote: their server children, and their clients
/// connected (compare_remote measures them). One that cannot start prints
/// `bench=<name> error=<what>` on stderr and is left out.
remote_contenders start_remote_baselines(raw_tcp_sizes sizes = {});

/// Runs the server side when `argv` is `<exe> --serve raw-tcp <request
/// bytes> <reply bytes> <fd>` or `<exe> --serve caf-remote <fd>` (what
/// start_remote_baselines starts; `<fd>` is where the listening port is
/// reported, 1 for stdout when started by hand): serves until SIGTERM, then
/// returns true. Returns false at once for any other command line. A server
/// that cannot start or fails while serving prints why on stderr and ends the
/// process with EXIT_FAILURE. main() calls it first.
bool serve_remote_baseline(int argc, char** argv);

} // namespace grainflow::bench
