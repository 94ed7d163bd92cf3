#pragma once

/// @file
/// What a shared-memory link is made of (the segment's geometry) and how its
/// threads behave (spinning, heartbeats, timeouts).

#include "grainflow/endpoints/result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace grainflow::shm {

/// The geometry of a segment: the same for both directions, chosen by the
/// side that creates the segment and read from the segment by the side that
/// opens it.
///
/// The largest message a link carries is `slot_size` bytes: messages of at
/// most `max_inline_payload` (248) bytes travel inside the ring (in their
/// descriptor and up to 3 more entries), larger ones in one slot of the
/// sender's slab.
struct segment_config {
  /// Ring entries per ring (one ring per direction): a power of two in
  /// [4, 2^20]. A message takes one entry (slot messages, inline ones of up
  /// to 56 bytes) to four (inline ones of up to 248 bytes); when the entries
  /// in flight fill the ring, a sender waits for room.
  std::uint32_t ring_capacity = 1024;
  /// Bytes per slot: a multiple of 64 in [64, 2^30]. Also the largest message.
  std::uint32_t slot_size = 64 * 1024;
  /// Slots per slab (one slab per direction): in [1, 2^16]. This many
  /// messages larger than 248 bytes can be in flight each way before a
  /// sender waits for a slot to come back.
  std::uint32_t slot_count = 256;

  /// Checks the ranges above and that the whole segment stays below
  /// `max_segment_bytes`; fails with `std::errc::invalid_argument`.
  [[nodiscard]] result<void> validate() const noexcept;

  bool operator==(const segment_config&) const = default;
};

/// The largest segment either side creates or maps: 16 GiB.
inline constexpr std::uint64_t max_segment_bytes = std::uint64_t{1} << 34;

/// Who takes a link's incoming messages off its ring.
enum class receive_mode : std::uint8_t {
  /// The link's own receiver thread, which calls `on_message` (spins, then
  /// sleeps on a futex).
  thread,
  /// The caller's thread, in `link::poll()`: no thread hand-off per message.
  /// A waker thread watches the ring only while the poller sleeps, and wakes
  /// it through `link::wake_fd()` (an eventfd to put into an event loop).
  polled,
};

/// Everything a link needs: the geometry (used by the creating side only)
/// and the timing of its threads (each side its own).
struct link_config {
  /// The geometry of a new segment. `link::open` takes the geometry from the
  /// segment and ignores this.
  segment_config segment;
  /// How long a waiting thread (the receiver waiting for messages, a sender
  /// waiting for room or a slot) spins before it sleeps on a futex. Spinning
  /// keeps the round trip in the microseconds; it burns a core while it
  /// lasts, so keep it short on small machines. Zero: never spin.
  std::chrono::microseconds spin{50};
  /// How often this side bumps its heartbeat and looks at the peer's.
  std::chrono::milliseconds heartbeat_interval{100};
  /// A peer whose heartbeat has not moved for this long is declared dead,
  /// even if its liveness socket is still open (a stopped or wedged
  /// process). The socket, when there is one, reports a crash at once; the
  /// heartbeat alone notices one within `peer_timeout + heartbeat_interval`,
  /// under a second with the defaults.
  std::chrono::milliseconds peer_timeout{800};
  /// The creating side gives up (and removes the segment) when no peer has
  /// opened it within this time.
  std::chrono::milliseconds attach_timeout{10000};
  /// The longest a thread sleeps on a futex before it looks at the link's
  /// state again. Wakeups are explicit; this only bounds the damage of a
  /// peer that never rings.
  std::chrono::milliseconds max_sleep{100};
  /// Who receives: the link's receiver thread, or the caller's in `poll()`.
  receive_mode receiving = receive_mode::thread;
};

} // namespace grainflow::shm
