#pragma once

/// @file
/// The token -> receiver table every process routes incoming packets through.
/// Design and invariants: endpoints/src/endpoint_map.spec.md.

#include "grainflow/endpoints/intrusive_ptr.hpp"
#include "grainflow/endpoints/ref_counted.hpp"
#include "grainflow/endpoints/result.hpp"
#include "grainflow/endpoints/uid.hpp"
#include "grainflow/endpoints/well_known.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "grainflow/endpoints/adaptive_mutex.hpp"
#include <span>

namespace grainflow {

/// Maps endpoint tokens to receivers. The network thread looks tokens up for
/// every incoming packet without taking a lock; actors register and remove
/// their endpoints from any thread.
///
/// Token layout:
/// - Well-known tokens are `uid{~0, n}`, `n < well_known_count`; they index a
///   fixed array and stay the same across removal and re-registration.
/// - Dynamic tokens are `uid{random, generation << 32 | slot}`. `random` comes
///   from the map's seeded generator and is never `~0`, so a dynamic token is
///   never mistaken for a well-known one; it also makes tokens unguessable to
///   a peer that was never told them. `generation` (>= 1) changes every time
///   a slot is reused, so a token that outlived its endpoint is rejected
///   rather than delivered to the slot's next occupant. `slot` makes lookup
///   O(1).
/// - `insert` of n receivers registers them in n consecutive slots under one
///   generation and one random part, so receiver i answers to
///   `base.adjusted(i)`: one serialized endpoint names a whole interface.
///
/// Thread safety: every member function may be called from any thread, and
/// `lookup` concurrently with all others; `insert`, `remove` and `clear`
/// serialize on an internal mutex. Destruction must not overlap any call.
class endpoint_map {
public:
  // -- member types and constants ---------------------------------------------

  /// What the map holds: anything reference counted. The transport casts it
  /// back to its own receiver type.
  using receiver_ptr = intrusive_ptr<ref_counted>;

  /// How many dynamic endpoints the map can hold at once.
  static constexpr std::size_t capacity = std::size_t{1} << 22;

  // -- constructors, destructors, and assignment operators --------------------

  /// Creates an empty map. `seed` feeds the random part of dynamic tokens
  /// (splitmix64, advanced under the registration mutex): randomness is
  /// passed in, never taken from a global, so simulations replay exactly.
  explicit endpoint_map(std::uint64_t seed);

  /// Releases every receiver still registered.
  ~endpoint_map();

  endpoint_map(const endpoint_map&) = delete;
  endpoint_map& operator=(const endpoint_map&) = delete;
  endpoint_map(endpoint_map&&) = delete;
  endpoint_map& operator=(endpoint_map&&) = delete;

  // -- registration -----------------------------------------------------------

  /// Registers `receivers[i]` under `base.adjusted(i)` and returns `base`.
  /// The map holds one reference to each receiver until it is removed.
  /// Fails with `std::errc::invalid_argument` when `receivers` is empty or
  /// holds a null pointer, and with `std::errc::not_enough_memory` when the
  /// map has no room for `receivers.size()` consecutive slots.
  [[nodiscard]] result<uid> insert(std::span<const receiver_ptr> receivers);

  /// Registers one receiver; same as inserting a span of one.
  [[nodiscard]] result<uid> insert(receiver_ptr receiver);

  /// Registers `receiver` under `well_known_token(index)`. Fails with
  /// `std::errc::invalid_argument` when `index >= well_known_count` or
  /// `receiver` is null, and with `std::errc::address_in_use` when that
  /// well-known token is taken.
  [[nodiscard]] result<void> insert_well_known(std::uint64_t index, receiver_ptr receiver);

  /// Removes the `count` endpoints that one `insert` registered under `base`
  /// and drops the map's references to them (outside the lock, so a receiver's
  /// destructor may call back into the map). Returns false, changing nothing,
  /// when `base` is unknown, stale, not a base token, or `count` differs from
  /// the number inserted. A well-known token is removed with `count == 1`.
  /// Blocks only until lookups that are reading these slots right now have
  /// taken their references: a few instructions each.
  bool remove(const uid& base, std::size_t count = 1) noexcept;

  /// Removes every endpoint (at shutdown); the receivers are released outside
  /// any lock. Endpoints inserted while clear() runs may survive it.
  void clear() noexcept;

  // -- lookup -----------------------------------------------------------------

  /// Returns a new reference to the receiver registered under `token`, or null
  /// when the token is unknown, stale, removed, or forged. Lock-free and in
  /// practice wait-free (two atomic read-modify-writes on the slot and one on
  /// the receiver's count); safe concurrently with everything but destruction.
  /// A receiver returned here stays alive for as long as the caller keeps the
  /// reference, even if it is removed meanwhile.
  receiver_ptr lookup(const uid& token) const noexcept;

  // -- properties -------------------------------------------------------------

  /// Returns the number of live endpoints, dynamic and well-known. Exact when
  /// no registration is in progress; a snapshot otherwise.
  std::size_t size() const noexcept;

private:
  // -- implementation details -------------------------------------------------

  struct slot;
  struct chunk;
  struct run {
    std::uint32_t start = 0;
    std::uint32_t length = 0;
  };

  static constexpr std::size_t chunk_bits = 12;
  static constexpr std::size_t chunk_size = std::size_t{1} << chunk_bits;
  static constexpr std::size_t chunk_count = capacity / chunk_size;

  static_assert(capacity % chunk_size == 0, "capacity must be a whole number of chunks");
  static_assert(capacity <= (std::size_t{1} << 32), "slot indexes must fit 32 bits");

  slot& slot_at(std::uint32_t index) const noexcept;
  slot* find_slot(std::uint32_t index) const noexcept;
  bool allocate(std::uint32_t length, run& out, std::uint32_t& generation) noexcept;
  bool take_free(std::uint32_t length, run& out) noexcept;
  bool take_fresh(std::uint32_t length, run& out) noexcept;
  bool take_split(std::uint32_t length, run& out) noexcept;
  bool ensure_chunks(run r) noexcept;
  std::uint64_t next_random() noexcept;
  void detach(slot& s) noexcept;
  void release_run(run r) noexcept;
  void recycle(run r) noexcept;
  bool remove_well_known(std::uint64_t index) noexcept;
  bool detach_next_run(std::uint32_t& cursor, run& out) noexcept;

  /// Serializes registration and removal; lookups never take it.
  mutable adaptive_mutex mtx_;

  /// splitmix64 state; guarded by mtx_.
  std::uint64_t random_state_;

  /// One past the highest slot ever handed out; guarded by mtx_.
  std::uint32_t bump_ = 0;

  /// Removed runs by length, ready for reuse; guarded by mtx_.
  std::map<std::uint32_t, std::uint32_t> free_heads_;

  /// Live endpoints; written under mtx_, read anywhere.
  std::atomic<std::size_t> size_{0};

  /// The fixed slots of well-known tokens.
  std::unique_ptr<std::array<slot, well_known_count>> well_known_;

  /// Chunks of dynamic slots, allocated on demand and freed only by the
  /// destructor, so lookups can follow these pointers without a lock.
  std::array<std::atomic<chunk*>, chunk_count> directory_;
};

} // namespace grainflow
