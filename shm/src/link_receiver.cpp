// A link's receiver thread: takes descriptors off the peer's ring, checks
// each before its payload is touched, hands payloads to the handler and the
// slots back to the peer. Invariants: shm_link.spec.md (INV-RING, INV-SLOT,
// INV-BELL).

#include "link_state.hpp"

#include "shm_check.hpp"

#include <pthread.h>

namespace grainflow::shm {

namespace {

using detail::readiness;

/// The link whose receiver runs on this thread (void: link::state is a
/// private type), so close() and the destructor can tell when a handler
/// calls them.
thread_local const void* receiving_link = nullptr;

} // namespace

bool link::state::on_receiver_thread() const noexcept {
  return receiving_link == this;
}

readiness link::state::probe_messages(std::memory_order order) noexcept {
  return detail::readiness_of(in_ring.refresh(order));
}

bool link::state::receiver_should_stop() const noexcept {
  // Acquire for our own flags (see sender_should_stop). seq_cst for the
  // peer's state: the peer stores it with seq_cst and then rings, so this
  // load is the waiter's half of INV-BELL-01 for a close.
  return closing.load(std::memory_order_acquire) ||
         stop_reason.load(std::memory_order_acquire) != 0 ||
         seg.side_of(peer).state.load(std::memory_order_seq_cst) ==
             static_cast<std::uint32_t>(side_state::closed);
}

void link::state::receive_loop() noexcept {
  receiving_link = this;
  ::pthread_setname_np(::pthread_self(), "gf-shm-recv");
  for (;;) {
    // Before every batch, so that neither a local close nor a failure waits
    // for a peer that keeps sending. Acquire: see sender_should_stop.
    if (closing.load(std::memory_order_acquire))
      return; // a local close: no more deliveries, no on_failure
    if (stop_reason.load(std::memory_order_acquire) != 0) {
      // INV-LIVE-03: what the peer published before is delivered, then the
      // failure is reported, once.
      drain_after_failure();
      if (handlers.on_failure && !closing.load(std::memory_order_acquire))
        handlers.on_failure(
            make_error_code(static_cast<error>(stop_reason.load(std::memory_order_acquire))));
      return;
    }
    switch (probe_messages(std::memory_order_acquire)) {
    case readiness::ready:
      deliver_batch();
      continue;
    case readiness::broken:
      // INV-RING-03: an impossible head; nothing on this ring can be trusted.
      fail(error::malformed_packet, false, false);
      continue;
    case readiness::not_ready:
      break;
    }
    // Acquire: the peer's seq_cst store of its state comes after its last
    // published descriptor, which the drain then sees.
    if (seg.side_of(peer).state.load(std::memory_order_acquire) ==
        static_cast<std::uint32_t>(side_state::closed)) {
      // INV-LIVE-04: a graceful close; what it sent before is still drained.
      fail(error::connection_failed, false, true);
      continue;
    }
    bool slept = false;
    wait_on(
        in.data, [this](std::memory_order o) { return probe_messages(o); },
        [this] { return receiver_should_stop(); }, clock::time_point::max(), &slept);
    if (slept)
      receiver_sleeps.add();
  }
}

std::uint64_t link::state::deliver_batch() noexcept {
  // Whole messages only: a descriptor and the continuations it claims are
  // copied together, or left for the next batch when they do not fit.
  const std::uint64_t readable = in_ring.readable();
  std::uint64_t copied = 0;
  while (copied < readable) {
    const descriptor first = in_ring.read(copied);
    const std::uint64_t claimed =
        std::min<std::uint64_t>(claimed_entries(first), readable - copied);
    if (copied + claimed > batch.size())
      break;
    batch[copied] = first;
    for (std::uint64_t k = 1; k < claimed; ++k)
      batch[copied + k] = in_ring.read(copied + k);
    copied += claimed;
  }
  // The copies are ours: the ring has room again before any handler runs, so
  // a slow handler does not hold the peer's sender back by more than this
  // batch.
  in_ring.pop(copied);
  if (ring(in.room))
    receive_wakeups.add();
  for (std::uint64_t i = 0; i < copied;)
    i += handle(std::span<const descriptor>{batch.data() + i, copied - i});
  return copied;
}

std::size_t link::state::handle(std::span<const descriptor> entries) noexcept {
  // INV-SLOT-05: every check before the payload is touched.
  const checked_descriptor checked = checker.check(entries);
  if (checked.fault != descriptor_fault::none) {
    rejected_descriptors.add();
    rejected_by_fault[static_cast<std::size_t>(checked.fault)].add();
  } else if (!closing.load(std::memory_order_relaxed)) {
    // Relaxed: skipping deliveries after a local close is best effort.
    messages_received.add();
    bytes_received.add(checked.payload.size());
    if (handlers.on_message)
      handlers.on_message(checked.payload);
  }
  // INV-SLOT-04: a slot that was really in flight to us goes back exactly
  // once, after the handler is done with it, whether or not it was valid.
  if (checked.return_slot)
    hand_back({checked.slot, checked.generation});
  GRAINFLOW_SHM_INVARIANT(checked.entries >= 1 && checked.entries <= entries.size(), "INV-RING-01");
  return checked.entries;
}

void link::state::hand_back(slot_ticket ticket) noexcept {
  // One publish per slot, right after its handler: a slow handler later in
  // the batch does not keep a slot the peer's sender may be waiting for.
  const auto status = returns_out.try_stage(encode_return(ticket));
  if (status != ring_status::ok) {
    // INV-SLOT-06: a correct peer never lets its return ring fill up (it
    // holds at most slot_count returns for at least as many entries), so
    // a full or corrupt one means the peer is broken.
    fail(error::malformed_packet, false, false);
    return;
  }
  returns_out.publish();
  if (ring(in.room))
    receive_wakeups.add();
}

void link::state::drain_after_failure() noexcept {
  // Acquire: see sender_should_stop.
  if (stop_reason.load(std::memory_order_acquire) == static_cast<int>(error::malformed_packet))
    return;
  // Bounded: a dead or closed peer publishes nothing more, and a peer that
  // lies about being closed cannot keep us here past one ring's worth.
  std::uint64_t budget = seg.geometry().ring_capacity;
  while (budget > 0 && !closing.load(std::memory_order_acquire) &&
         probe_messages(std::memory_order_acquire) == readiness::ready)
    budget -= std::min(budget, deliver_batch());
}

} // namespace grainflow::shm
