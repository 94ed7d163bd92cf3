// The sender's slot bookkeeping. Invariants: INV-SLOT-01..03 in
// shm_link.spec.md.

#include "grainflow/shm/slot_pool.hpp"

#include "shm_check.hpp"

namespace grainflow::shm {

slot_pool::slot_pool(std::uint32_t slot_count, std::atomic<std::uint32_t>* generations)
    : slots_(slot_count)
    , generations_(generations) {
  free_.reserve(slot_count);
  // Highest index at the bottom: slot 0 is handed out first.
  for (std::uint32_t i = slot_count; i-- > 0;) {
    // Relaxed: read once at start, before any descriptor names the slot.
    slots_[i].generation = generations[i].load(std::memory_order_relaxed);
    free_.push_back(i);
  }
}

std::optional<slot_ticket> slot_pool::allocate() noexcept {
  if (free_.empty())
    return std::nullopt;
  const std::uint32_t slot = free_.back();
  free_.pop_back();
  slot_state& state = slots_[slot];
  GRAINFLOW_SHM_INVARIANT(!state.in_flight, "INV-SLOT-01");
  // INV-SLOT-02: every use gets a new generation; 0 is skipped so that it
  // can mean "never received" on the receiving side.
  ++state.generation;
  if (state.generation == 0)
    state.generation = 1;
  state.in_flight = true;
  // Relaxed: the descriptor naming this slot is published later with a
  // release store of the ring head, which orders this store before the
  // receiver's check (INV-RING-02).
  generations_[slot].store(state.generation, std::memory_order_relaxed);
  check_invariants();
  return slot_ticket{slot, state.generation};
}

bool slot_pool::take_back(slot_ticket ticket) noexcept {
  // INV-SLOT-03: only a slot in flight under this very generation comes
  // back, so a duplicate or forged return can never free a slot twice.
  if (ticket.slot >= slots_.size())
    return false;
  slot_state& state = slots_[ticket.slot];
  if (!state.in_flight || state.generation != ticket.generation)
    return false;
  state.in_flight = false;
  free_.push_back(ticket.slot);
  check_invariants();
  return true;
}

void slot_pool::cancel(slot_ticket ticket) noexcept {
  [[maybe_unused]] const bool taken = take_back(ticket);
  GRAINFLOW_SHM_INVARIANT(taken, "precondition: cancel a slot this pool allocated");
}

std::uint32_t slot_pool::reclaim_all() noexcept {
  std::uint32_t reclaimed = 0;
  for (std::uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].in_flight) {
      slots_[i].in_flight = false;
      free_.push_back(i);
      ++reclaimed;
    }
  }
  check_invariants();
  return reclaimed;
}

void slot_pool::check_invariants() const noexcept {
#ifndef NDEBUG
  // INV-SLOT-01: every slot is either free (once) or in flight, never both.
  // O(1) here; the full scan runs only in small pools to keep debug builds
  // usable with large slabs.
  GRAINFLOW_SHM_INVARIANT(free_.size() <= slots_.size(), "INV-SLOT-01");
  if (slots_.size() <= 64) {
    std::uint32_t in_flight = 0;
    for (const auto& s : slots_)
      in_flight += s.in_flight ? 1 : 0;
    GRAINFLOW_SHM_INVARIANT(in_flight + free_.size() == slots_.size(), "INV-SLOT-01");
    for (auto i : free_)
      GRAINFLOW_SHM_INVARIANT(!slots_[i].in_flight, "INV-SLOT-01");
  }
#endif
}

} // namespace grainflow::shm
