// Polled receiving (receive_mode::polled): the caller's thread (the poller)
// takes descriptors off the peer's ring in poll(); a waker thread stands in
// for it on the data doorbell only while it sleeps, and turns a ring into a
// write to an eventfd the poller waits on. Invariants: shm_link.spec.md
// (INV-RING, INV-SLOT, INV-BELL, INV-POLL).

#include "link_state.hpp"

#include "shm_check.hpp"

#include <pthread.h>
#include <unistd.h>

namespace grainflow::shm {

namespace {

using detail::readiness;
using detail::wait_outcome;

/// The link a poll() runs on this thread (void: link::state is private), so
/// a handler cannot poll the same link again from inside a delivery.
thread_local const void* polling_link = nullptr;

} // namespace

bool link::state::on_poller_thread() const noexcept {
  // Relaxed: a thread compares the id with its own, and only that thread
  // stores its own id; nothing else is ordered by it.
  return poller.load(std::memory_order_relaxed) == std::this_thread::get_id();
}

readiness link::state::probe_pending(std::memory_order order) const noexcept {
  // Read-only, for the waker: the consumer's cached positions belong to the
  // poller. Acquire for the tail: our poller's own seq_cst store. Any head
  // other than the tail is "ready", also an impossible one: the poller then
  // finds out what is wrong (INV-RING-03), the waker never trusts it.
  const std::uint64_t tail = in.messages.tail.load(std::memory_order_acquire);
  const std::uint64_t head = in.messages.head.load(order);
  return head != tail ? readiness::ready : readiness::not_ready;
}

void link::state::waker_loop() noexcept {
  ::pthread_setname_np(::pthread_self(), "gf-shm-wake");
  for (;;) {
    // INV-POLL-01: stand in for the poller only while it sleeps. Acquire:
    // the flag decides only whether to watch; the ring is read with the
    // doorbell's own orders. The sleep's re-check is seq_cst against the
    // poller's seq_cst exchange before it rings (INV-BELL-01).
    // A stop ends the wait too: the stop's own announcement may have been
    // cleared by the store below when a message came at the same time.
    while (poller_asleep.load(std::memory_order_acquire) == 0 && !receiver_should_stop())
      (void)sleep_unless(
          poller_bell,
          [this] {
            return poller_asleep.load(std::memory_order_seq_cst) != 0 || receiver_should_stop();
          },
          config.max_sleep);
    bool slept = false;
    const auto outcome = wait_on(
        in.data, [this](std::memory_order o) { return probe_pending(o); },
        [this] { return receiver_should_stop(); }, clock::time_point::max(), &slept);
    if (slept)
      waker_sleeps.add();
    // seq_cst, before the eventfd write: the poller that wakes from that
    // write announces its next sleep after it, so this clear never hides a
    // later announcement (INV-POLL-01). A clear that lands after an
    // announcement made before the write is followed by the write, which
    // wakes the poller, which announces again before it sleeps.
    poller_asleep.store(0, std::memory_order_seq_cst);
    const std::uint64_t one = 1;
    // Nonblocking: a full eventfd counter already means "poll".
    [[maybe_unused]] auto n = ::write(poll_wake.get(), &one, sizeof one);
    waker_wakeups.add();
    // Stopped (also with messages left): the poller drains and reports it
    // without us (prepare_sleep() then says "poll"); a local close joins us.
    if (outcome != wait_outcome::ready || receiver_should_stop())
      return;
  }
}

bool link::state::prepare_sleep() noexcept {
  // Stopped: poll once more to report it, then nothing is left to wait for
  // (the waker is gone and the eventfd stays quiet).
  if (stop_reason.load(std::memory_order_acquire) != 0)
    return failure_reported;
  if (closing.load(std::memory_order_acquire))
    return true;
  // seq_cst: the announcement before the re-check below (INV-POLL-01); the
  // waker then looks at the ring itself with INV-BELL-01's protocol.
  if (poller_asleep.exchange(1, std::memory_order_seq_cst) == 0)
    (void)ring(poller_bell);
  // Acquire: only saves a round through the waker; a message this misses is
  // seen by the waker's own probes.
  return probe_pending(std::memory_order_acquire) == readiness::not_ready &&
         seg.side_of(peer).state.load(std::memory_order_acquire) !=
             static_cast<std::uint32_t>(side_state::closed);
}

void link::state::report_failure_once() noexcept {
  if (failure_reported)
    return;
  failure_reported = true;
  // INV-LIVE-03: what the peer published before is delivered, then the
  // failure is reported, once.
  drain_after_failure();
  if (handlers.on_failure && !closing.load(std::memory_order_acquire))
    handlers.on_failure(
        make_error_code(static_cast<error>(stop_reason.load(std::memory_order_acquire))));
}

std::size_t link::state::poll() noexcept {
  GRAINFLOW_SHM_ALWAYS(polling_link != this, "precondition: poll() is not called from a handler");
  // Relaxed: see on_poller_thread().
  poller.store(std::this_thread::get_id(), std::memory_order_relaxed);
  polling_link = this;
  const std::uint64_t before = messages_received.get();
  // Acquire: see sender_should_stop.
  if (closing.load(std::memory_order_acquire)) {
    // A local close: no more deliveries, no on_failure.
  } else if (stop_reason.load(std::memory_order_acquire) != 0) {
    report_failure_once();
  } else {
    // At most one ring's worth per call, so a peer that keeps sending does
    // not keep the poller's other work waiting.
    std::uint64_t budget = seg.geometry().ring_capacity;
    bool idle = true;
    while (budget > 0) {
      const auto r = probe_messages(std::memory_order_acquire);
      if (r == readiness::broken) {
        // INV-RING-03: an impossible head; nothing on this ring is trusted.
        fail(error::malformed_packet, false, false);
        break;
      }
      if (r != readiness::ready)
        break;
      idle = false;
      budget -= std::min(budget, deliver_batch());
    }
    // Acquire: as in receive_loop, the peer's seq_cst store of its state
    // comes after its last published descriptor.
    if (idle && stop_reason.load(std::memory_order_acquire) == 0 &&
        seg.side_of(peer).state.load(std::memory_order_acquire) ==
            static_cast<std::uint32_t>(side_state::closed))
      fail(error::connection_failed, false, true); // INV-LIVE-04
    if (stop_reason.load(std::memory_order_acquire) != 0)
      report_failure_once();
  }
  polling_link = nullptr;
  return static_cast<std::size_t>(messages_received.get() - before);
}

bool link::state::drain_while_waiting() noexcept {
  // A poller that waits for room must keep taking its own messages, or two
  // pollers sending to each other could wait for each other forever.
  if (config.receiving == receive_mode::polled && polling_link == nullptr && on_poller_thread())
    (void)poll();
  return sender_should_stop();
}

} // namespace grainflow::shm
