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
  std::chrono::microseconds ping_round_trip{0};
};

} // namespace grainflow
