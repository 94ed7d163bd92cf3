#pragma once

#include "grainflow/endpoints/network_address.hpp"

#include <chrono>
#include <cstdint>

namespace grainflow {

/// One remote process as this transport sees it. A snapshot.
struct peer_stats {
  network_address address;
  bool connected = false;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;
  /// Reliable packets sent and not yet acknowledged.
  std::uint64_t reliable_in_flight = 0;
  std::uint64_t retransmits = 0;
  /// Connections established after the first.
  std::uint64_t reconnects = 0;
  /// Connections closed for bad input (checksum, framing, protocol).
  std::uint64_t protocol_errors = 0;
  /// The last ping's round trip; zero before the first pong.
  /// Requests held back in this process because the peer's request window
  /// is full (docs/protocol.md, "Request flow control").
  std::uint64_t requests_held = 0;
  /// Times a request had to wait for the peer's window.
  std::uint64_t window_stalls = 0;
  /// Bytes of requests from the peer that this process took in and has not
  /// answered yet (bounded by transport_config::request_window_bytes).
  std::uint64_t inbound_backlog_bytes = 0;
  std::chrono::microseconds ping_round_trip{0};
  /// Whether this process currently sends its session frames to the peer
  /// over a shared-memory link (docs/protocol.md, "Shared memory").
  bool shared_memory = false;
  /// Links set up with the peer so far (one per connection at most).
  std::uint64_t shm_links = 0;
  /// Bytes sent and received over shared-memory links (included in
  /// bytes_sent and bytes_received).
  std::uint64_t shm_bytes_sent = 0;
  std::uint64_t shm_bytes_received = 0;
};

} // namespace grainflow
