#pragma once

/// @file
/// A single-producer single-consumer ring in memory that another process may
/// share: the producer and consumer halves, each kept by one thread of one
/// process. Instantiated for `descriptor` (message rings) and
/// `std::uint64_t` (return rings); see src/spsc_ring.cpp.

#include "grainflow/shm/layout.hpp"

#include <atomic>
#include <cstdint>

namespace grainflow::shm {

/// What a ring operation found.
enum class ring_status : std::uint8_t {
  ok = 0,
  /// The producer found no room.
  full = 1,
  /// The consumer found nothing to read.
  empty = 2,
  /// The other half's index is impossible (behind ours, or further than the
  /// capacity ahead): the other process is broken or hostile. The ring cannot
  /// be used any more.
  corrupt = 3,
};

/// The producing half. Keeps its own head (never re-read from shared memory,
/// where the peer could change it) and a cached copy of the consumer's tail,
/// refreshed only when the cache says the ring is full.
///
/// Thread safety: one thread at a time (the owner serializes). Memory order:
/// entries are written before `publish` stores the head with seq_cst (which
/// includes release: INV-RING-02); the tail is read with acquire, so the
/// consumer's reads of an entry happen before the producer overwrites it.
template <class T>
class ring_producer {
public:
  // -- constructors -----------------------------------------------------------

  /// A producer of nothing; only assignment makes it usable.
  ring_producer() noexcept = default;

  /// Produces into `entries[0 .. capacity)` with positions in `indices`.
  /// Reads the shared head once as its starting position (the producer is its
  /// only writer). Precondition: `capacity` is a power of two.
  ring_producer(ring_indices& indices, T* entries, std::uint32_t capacity) noexcept;

  // -- properties -------------------------------------------------------------

  /// Position of the next entry to stage.
  std::uint64_t head() const noexcept { return head_; }

  /// Entries staged but not yet published.
  std::uint64_t staged() const noexcept { return head_ - published_; }

  // -- operations -------------------------------------------------------------

  /// Refreshes the cached tail with `order` (acquire on the hot path, seq_cst
  /// before sleeping) and reports whether `needed` entries fit: ok, full or
  /// corrupt.
  ring_status refresh(std::memory_order order, std::uint64_t needed = 1) noexcept;

  /// Reports whether `needed` entries fit by the cached tail, refreshing it
  /// (acquire) once when not: ok, full or corrupt. Staging that many then
  /// succeeds.
  ring_status reserve(std::uint64_t needed) noexcept;

  /// Writes `value` at the head without publishing it, if there is room by
  /// the cached tail (refreshing it once when not): ok, full or corrupt.
  ring_status try_stage(const T& value) noexcept;

  /// Makes every staged entry visible to the consumer (seq_cst store of the
  /// head: release for the entries, and the store half of the doorbell's
  /// store-then-check, INV-BELL-01).
  void publish() noexcept;

  /// try_stage, then publish on success.
  ring_status try_push(const T& value) noexcept;

private:
  ring_indices* indices_ = nullptr;
  T* entries_ = nullptr;
  std::uint64_t mask_ = 0;
  std::uint64_t capacity_ = 0;
  std::uint64_t head_ = 0;
  std::uint64_t published_ = 0;
  std::uint64_t cached_tail_ = 0;
};

/// The consuming half. Keeps its own tail and a cached copy of the producer's
/// head, refreshed by `refresh`.
///
/// Thread safety: one thread at a time. Memory order: the head is read with
/// acquire (or seq_cst before sleeping), so entries read after `refresh` are
/// the ones the producer published; `pop` stores the tail with seq_cst
/// (release: entries are copied out before the producer may reuse them, and
/// the store half of the room doorbell, INV-BELL-01).
template <class T>
class ring_consumer {
public:
  // -- constructors -----------------------------------------------------------

  /// A consumer of nothing; only assignment makes it usable.
  ring_consumer() noexcept = default;

  /// Consumes from `entries[0 .. capacity)` with positions in `indices`.
  /// Reads the shared tail once as its starting position (the consumer is its
  /// only writer). Precondition: `capacity` is a power of two.
  ring_consumer(ring_indices& indices, const T* entries, std::uint32_t capacity) noexcept;

  // -- properties -------------------------------------------------------------

  /// Position of the next entry to read.
  std::uint64_t tail() const noexcept { return tail_; }

  /// Entries readable by the last refresh.
  std::uint64_t readable() const noexcept { return cached_head_ - tail_; }

  // -- operations -------------------------------------------------------------

  /// Loads the producer's head once with `order` and checks it: ok (at least
  /// one entry), empty, or corrupt (the head is behind the tail or more than
  /// the capacity ahead; the cached head is then left as it was).
  ring_status refresh(std::memory_order order) noexcept;

  /// A copy of the entry `i` places past the tail. Precondition:
  /// `i < readable()`.
  T read(std::uint64_t i) const noexcept;

  /// Releases the `n` oldest entries to the producer: a store of the tail
  /// with `order`, seq_cst by default (release hands the entries back after
  /// our copies of them; seq_cst makes it the store half of the room
  /// doorbell, INV-BELL-01) or release where nobody waits for room.
  /// Precondition: `n <= readable()`.
  void pop(std::uint64_t n, std::memory_order order = std::memory_order_seq_cst) noexcept;

private:
  ring_indices* indices_ = nullptr;
  const T* entries_ = nullptr;
  std::uint64_t mask_ = 0;
  std::uint64_t capacity_ = 0;
  std::uint64_t tail_ = 0;
  std::uint64_t cached_head_ = 0;
};

} // namespace grainflow::shm
