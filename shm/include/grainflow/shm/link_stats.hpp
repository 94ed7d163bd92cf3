#pragma once

/// @file
/// What a shared-memory link counts.

#include "grainflow/shm/descriptor.hpp"

#include <array>
#include <cstdint>
#include <system_error>

namespace grainflow::shm {

/// A snapshot of one end's counters. Sent and received refer to this end.
struct link_stats {
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_received = 0;
  /// Sends that had to wait for ring room or a free slot (backpressure).
  std::uint64_t waits_for_room = 0;
  /// Times the receiver thread (in polled mode the waker) went to sleep on
  /// its futex.
  std::uint64_t receiver_sleeps = 0;
  /// FUTEX_WAKE calls this end issued to wake a sleeper, plus (polled mode)
  /// the waker's eventfd writes that woke the poller.
  std::uint64_t wakeups_issued = 0;
  /// Descriptors from the peer that failed their checks (never delivered).
  std::uint64_t rejected_descriptors = 0;
  /// The same, by fault (indexed by `descriptor_fault`; [0] stays 0).
  std::array<std::uint64_t, descriptor_fault_count> rejected_by_fault{};
  /// Slots the peer handed back that were not in flight under that
  /// generation (refused; nothing freed).
  std::uint64_t rejected_returns = 0;
  /// Slots of this end's slab the peer holds now.
  std::uint32_t slots_in_flight = 0;
  /// Slots taken back without the peer, after it died or closed.
  std::uint64_t slots_reclaimed = 0;
  /// The peer opened (or created) the segment.
  bool peer_attached = false;
  /// The peer closed its end on purpose.
  bool peer_closed = false;
  /// The peer died: its liveness socket hung up, or its heartbeat stopped.
  bool peer_dead = false;
  /// Why the link stopped; empty while it runs.
  std::error_code failure;
};

} // namespace grainflow::shm
