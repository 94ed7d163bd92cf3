#pragma once

#include <atomic>
#include <cstdint>

namespace grainflow {

/// A snapshot of a transport's counters.
struct transport_stats {
  /// Objects handed to a same-process receiver without serialization.
  std::uint64_t local_deliveries = 0;
  /// Packets handed to a receiver (serialized path).
  std::uint64_t packets_delivered = 0;
  /// Packets whose token had no receiver.
  std::uint64_t endpoints_not_found = 0;
  /// Packets that failed framing checks (length, checksum).
  std::uint64_t malformed_packets = 0;
  /// Packets whose payload did not decode at their receiver.
  std::uint64_t undecodable_payloads = 0;
  /// Inbound connections closed before or at their handshake: garbage, a bad
  /// checksum or length, an incompatible version, or silence.
  std::uint64_t rejected_connections = 0;
};

/// The live counters behind transport_stats. Relaxed increments: each counter
/// is independent and only read for reporting, so no ordering is needed.
struct transport_counters {
  std::atomic<std::uint64_t> local_deliveries{0};
  std::atomic<std::uint64_t> packets_delivered{0};
  std::atomic<std::uint64_t> endpoints_not_found{0};
  std::atomic<std::uint64_t> malformed_packets{0};
  std::atomic<std::uint64_t> undecodable_payloads{0};
  std::atomic<std::uint64_t> rejected_connections{0};

  static void bump(std::atomic<std::uint64_t>& counter) noexcept {
    counter.fetch_add(1, std::memory_order_relaxed);
  }
  transport_stats snapshot() const noexcept {
    return {local_deliveries.load(std::memory_order_relaxed),
            packets_delivered.load(std::memory_order_relaxed),
            endpoints_not_found.load(std::memory_order_relaxed),
            malformed_packets.load(std::memory_order_relaxed),
            undecodable_payloads.load(std::memory_order_relaxed),
            rejected_connections.load(std::memory_order_relaxed)};
  }
};

} // namespace grainflow
