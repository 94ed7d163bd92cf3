#pragma once

/// @file
/// The plain data inside a segment: its header, each side's liveness block,
/// ring indices and doorbells, and where every region starts. No pointers,
/// no vtables: both processes map the same bytes at different addresses, so
/// everything is found by offset. The byte-level layout is in
/// shm/src/shm_link.spec.md ("Segment layout").

#include "grainflow/endpoints/result.hpp"
#include "grainflow/shm/config.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace grainflow::shm {

// -- constants ----------------------------------------------------------------

/// The first eight bytes of every segment read "GFSHMSEG" (a little-endian
/// u64).
inline constexpr std::uint64_t segment_magic = 0x4745534D48534647ULL;

/// The layout version; a segment of any other version is refused.
inline constexpr std::uint32_t segment_version = 1;

/// Alignment of the indices that two processes write: two cache lines, so
/// that a neighbour's writes never invalidate them (adjacent-line prefetch
/// pulls lines in pairs on x86).
inline constexpr std::size_t hot_alignment = 128;

/// Every region of a slab starts on a page, so a side can map the peer's
/// slab read-only.
inline constexpr std::size_t page_size = 4096;

static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "the segment's 64-bit atomics must be lock-free: another process shares them");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free,
              "the segment's 32-bit atomics must be lock-free: another process shares them");
static_assert(sizeof(std::atomic<std::uint32_t>) == 4,
              "futex words are std::atomic<std::uint32_t> and must be 4 bytes");

// -- sides --------------------------------------------------------------------

/// The two ends of a segment. Messages of side s travel on direction s: its
/// ring, its slab, its return ring.
enum class side : std::uint8_t {
  /// The process that created the segment.
  creator = 0,
  /// The process that opened it.
  opener = 1,
};

/// The other side.
constexpr side other(side s) noexcept {
  return s == side::creator ? side::opener : side::creator;
}

/// Index of a side in the header's arrays.
constexpr std::size_t index_of(side s) noexcept {
  return static_cast<std::size_t>(s);
}

/// Where a side is in its life, as the side itself records it.
enum class side_state : std::uint32_t {
  /// Nobody has claimed this side yet (the opener before `link::open`).
  absent = 0,
  /// The side mapped the segment and runs.
  attached = 1,
  /// The side closed its link on purpose. What it sent before stays valid.
  closed = 2,
};

// -- shared blocks ------------------------------------------------------------

/// One side's liveness, written only by that side.
struct alignas(hot_alignment) side_block {
  /// Random, non-zero, written once when the side attaches: tells one
  /// incarnation of a side from another.
  std::atomic<std::uint64_t> epoch;
  /// Bumped every heartbeat interval while the side lives.
  std::atomic<std::uint64_t> heartbeat;
  /// A `side_state`.
  std::atomic<std::uint32_t> state;
  /// The side's process id, for diagnostics only (never trusted).
  std::atomic<std::uint32_t> pid;
};

/// The producer's and the consumer's index of one SPSC ring. Positions count
/// entries ever pushed (head) and popped (tail); they never wrap in practice
/// (2^64 entries) and the slot of position p is p mod capacity.
struct ring_indices {
  /// Written by the producer only.
  alignas(hot_alignment) std::atomic<std::uint64_t> head;
  /// Written by the consumer only.
  alignas(hot_alignment) std::atomic<std::uint64_t> tail;
};

/// A doorbell: a futex word and a flag saying someone may sleep on it.
/// A thread about to sleep sets `sleeping`; the first ringer after that
/// clears it and calls FUTEX_WAKE, later ringers see it clear and skip the
/// system call (see doorbell.hpp).
struct alignas(hot_alignment) bell {
  /// The futex word: incremented by every ring that wakes.
  std::atomic<std::uint32_t> sequence;
  /// 1 when a thread announced it may sleep and no ringer has woken it yet.
  std::atomic<std::uint32_t> sleeping;
};

/// Everything of one direction (the messages side s sends).
struct direction_block {
  /// The descriptor ring: s produces, the other side consumes.
  ring_indices messages;
  /// The return ring: the other side produces the slots of s's slab it is
  /// done with, s consumes them.
  ring_indices returns;
  /// The receiver of this direction sleeps here waiting for messages.
  bell data;
  /// The sender of this direction sleeps here waiting for ring room or a
  /// returned slot.
  bell room;
};

/// The fixed facts of a segment, written once by the creator before the
/// segment's name is handed out and never changed; the opener copies and
/// checks them once. Trivially copyable, so a copy is one memcpy.
struct segment_fields {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t header_bytes;
  std::uint32_t ring_capacity;
  std::uint32_t return_capacity;
  std::uint32_t slot_size;
  std::uint32_t slot_count;
  std::uint64_t total_bytes;
};

/// The first bytes of a segment.
struct segment_header {
  segment_fields fields;
  /// Indexed by `index_of(side)`.
  side_block sides[2];
  /// Indexed by `index_of(side)` of the sender.
  direction_block directions[2];
};

static_assert(sizeof(segment_header) % hot_alignment == 0);

// -- geometry -----------------------------------------------------------------

/// Where each region of a segment starts, computed from its sizes the same
/// way on both sides (offsets are never read from the segment).
struct segment_geometry {
  std::uint32_t ring_capacity = 0;
  /// Entries of each return ring: `slot_count` rounded up to a power of two,
  /// so every slot can be on its way back at once.
  std::uint32_t return_capacity = 0;
  std::uint32_t slot_size = 0;
  std::uint32_t slot_count = 0;
  /// Offsets from the segment's start, indexed by `index_of(side)` of the
  /// direction's sender (the slab's owner).
  std::uint64_t message_ring_offset[2] = {0, 0};
  std::uint64_t return_ring_offset[2] = {0, 0};
  std::uint64_t generations_offset[2] = {0, 0};
  std::uint64_t slab_offset[2] = {0, 0};
  /// Bytes of one slab: slot_count * slot_size.
  std::uint64_t slab_bytes = 0;
  std::uint64_t total_bytes = 0;

  /// Validates `config` (segment_config::validate) and lays the segment out.
  [[nodiscard]] static result<segment_geometry> compute(const segment_config& config) noexcept;

  /// Lays out `config` without validating it. Precondition: every field is
  /// within the ranges of segment_config (the sums then cannot overflow).
  static segment_geometry compute_unchecked(const segment_config& config) noexcept;

  /// The configuration this geometry was computed from.
  segment_config config() const noexcept { return {ring_capacity, slot_size, slot_count}; }
};

} // namespace grainflow::shm
