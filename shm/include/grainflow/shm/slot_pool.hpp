#pragma once

/// @file
/// The sender's bookkeeping of its own slab: which slots are free, which are
/// in flight to the receiver, and under which generation.

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

namespace grainflow::shm {

/// A slot as the sender hands it out: its index and the generation this use
/// of it carries.
struct slot_ticket {
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;

  bool operator==(const slot_ticket&) const = default;
};

/// A return-ring entry: the generation in the high half, the slot index in
/// the low half.
constexpr std::uint64_t encode_return(slot_ticket ticket) noexcept {
  return std::uint64_t{ticket.generation} << 32 | ticket.slot;
}

/// The ticket a return-ring entry names (unchecked: see slot_pool::take_back).
constexpr slot_ticket decode_return(std::uint64_t entry) noexcept {
  return {static_cast<std::uint32_t>(entry), static_cast<std::uint32_t>(entry >> 32)};
}

/// The sender allocates, the receiver frees: this is the allocating side. It
/// lives in the sender's process only (nothing of it is in shared memory but
/// the generations it publishes), so the peer cannot corrupt it; every slot
/// the peer hands back is checked against it (INV-SLOT-03).
///
/// Free slots are reused last-in first-out, so a lightly loaded link keeps
/// touching the same few pages.
///
/// Thread safety: none; the link's send mutex guards it.
class slot_pool {
public:
  // -- constructors -----------------------------------------------------------

  /// Manages `slot_count` slots whose current generations are published in
  /// `generations[0 .. slot_count)`. Every slot starts free; its generation
  /// continues from the published one.
  slot_pool(std::uint32_t slot_count, std::atomic<std::uint32_t>* generations);

  // -- properties -------------------------------------------------------------

  std::uint32_t slot_count() const noexcept { return static_cast<std::uint32_t>(slots_.size()); }

  std::uint32_t free_count() const noexcept { return static_cast<std::uint32_t>(free_.size()); }

  /// Slots allocated and not yet taken back.
  std::uint32_t in_flight() const noexcept { return slot_count() - free_count(); }

  // -- operations -------------------------------------------------------------

  /// Takes a free slot, gives it the next generation (never 0) and publishes
  /// that generation for the receiver's check; nullopt when none is free.
  std::optional<slot_ticket> allocate() noexcept;

  /// Accepts a slot the receiver handed back. True when `ticket` names a slot
  /// in flight under exactly that generation; anything else (out of range,
  /// already free, an old generation) is refused and changes nothing.
  bool take_back(slot_ticket ticket) noexcept;

  /// Puts back a slot this side allocated but never published (a send that
  /// failed). Precondition: `ticket` came from allocate() and is in flight.
  void cancel(slot_ticket ticket) noexcept;

  /// Puts every slot in flight back: the receiver is gone and will hand
  /// nothing back. Returns how many there were.
  std::uint32_t reclaim_all() noexcept;

private:
  struct slot_state {
    std::uint32_t generation = 0;
    bool in_flight = false;
  };

  void check_invariants() const noexcept;

  std::vector<slot_state> slots_;
  /// Free slot indices; the back is reused first.
  std::vector<std::uint32_t> free_;
  std::atomic<std::uint32_t>* generations_;
};

} // namespace grainflow::shm
