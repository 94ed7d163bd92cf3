#pragma once

// Internal to shm/ (never installed): everything of one end of a link, shared
// by link.cpp (life and sending), link_receiver.cpp (the receiver thread),
// link_poller.cpp (polled receiving and its waker thread) and
// link_monitor.cpp (the liveness thread). Design and invariants:
// shm_link.spec.md.

#include "grainflow/endpoints/error.hpp"
#include "grainflow/shm/descriptor.hpp"
#include "grainflow/shm/doorbell.hpp"
#include "grainflow/shm/link.hpp"
#include "grainflow/shm/segment.hpp"
#include "grainflow/shm/slot_pool.hpp"
#include "grainflow/shm/spsc_ring.hpp"

#include "posix.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>

namespace grainflow::shm {

namespace detail {

using clock = std::chrono::steady_clock;

/// A statistic with one writing thread (or writers serialized by a mutex)
/// and readers anywhere: a relaxed load and store instead of an atomic
/// read-modify-write, which would cost a locked instruction per message.
class counter {
public:
  void add(std::uint64_t n = 1) noexcept {
    // Relaxed: a statistic; readers want a recent value, not an ordering.
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

/// What a waiting thread's condition says.
enum class readiness : std::uint8_t { ready, not_ready, broken };

/// A ring's answer as a waiter's condition: ok is ready, full or empty is
/// not yet, corrupt is broken.
constexpr readiness readiness_of(ring_status status) noexcept {
  switch (status) {
  case ring_status::ok:
    return readiness::ready;
  case ring_status::corrupt:
    return readiness::broken;
  default:
    return readiness::not_ready;
  }
}

/// What the liveness thread knows of the peer between rounds.
struct peer_watch {
  bool attached = false;
  std::uint64_t epoch = 0;
  std::uint64_t heartbeat = 0;
  clock::time_point heartbeat_moved;
};

/// How a wait ended.
enum class wait_outcome : std::uint8_t { ready, broken, stopped, timed_out };

} // namespace detail

struct link::state {
  using clock = detail::clock;

  state(segment&& seg, side self, const link_config& config, link_handlers handlers,
        detail::unique_fd liveness, detail::unique_fd wake);

  // -- fixed after construction -----------------------------------------------

  const link_config config;
  segment seg;
  const side self;
  const side peer;
  link_handlers handlers;
  /// A duplicate of the caller's liveness socket, or invalid.
  detail::unique_fd liveness;
  /// An eventfd that wakes the liveness thread when the link stops.
  detail::unique_fd wake;
  /// Polled mode: the eventfd the waker thread writes for the poller
  /// (link::wake_fd()); invalid in thread mode.
  detail::unique_fd poll_wake;
  /// The direction this end sends on, and the one it receives on.
  direction_block& out;
  direction_block& in;

  // -- sending: guarded by send_mutex -----------------------------------------

  /// A plain mutex: a send with a deadline takes it with try_lock and
  /// naps (link.cpp, lock_by), not with timed_mutex::try_lock_until, whose
  /// pthread_mutex_clocklock ThreadSanitizer does not see.
  std::mutex send_mutex;
  ring_producer<descriptor> out_ring;
  /// Our slab's slots coming back from the peer.
  ring_consumer<std::uint64_t> returns_in;
  slot_pool pool;

  // -- receiving: the receiver thread (thread mode) or the poller only --------

  ring_consumer<descriptor> in_ring;
  /// The peer's slots going back to it.
  ring_producer<std::uint64_t> returns_out;
  descriptor_checker checker;
  /// Descriptors copied out of the ring before any is handled, so the ring
  /// has room again while handlers run. Holds whole messages only.
  std::array<descriptor, 64> batch;
  static_assert(64 >= 1 + max_continuation_entries, "the largest inline message fits a batch");
  /// Polled mode: on_failure was called (or the close made it moot).
  bool failure_reported = false;

  // -- polled mode: shared by the poller and the waker thread ----------------

  /// 1 while the poller sleeps (or is about to) and wants the waker to watch
  /// the data doorbell for it; 0 while it polls (INV-POLL-01).
  std::atomic<std::uint32_t> poller_asleep{0};
  static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "the waker's flag is lock-free");
  /// Where the waker sleeps while the poller is awake: a doorbell in this
  /// process's memory, rung by prepare_sleep() and by a stop (INV-BELL-01
  /// between the two threads; every sleep bounded by max_sleep).
  bell poller_bell{};
  /// The thread that last called poll(), so that its sends keep draining
  /// while they wait for room (INV-POLL-02).
  std::atomic<std::thread::id> poller{};

  // -- status -----------------------------------------------------------------

  /// The grainflow::error that stopped the link; 0 while it runs. Set once
  /// (INV-LIVE-03).
  std::atomic<int> stop_reason{0};
  /// close() was called.
  std::atomic<bool> closing{false};
  /// The name is gone from /dev/shm (removed by us or by the opener).
  std::atomic<bool> unlinked{false};
  std::atomic<bool> peer_attached{false};
  std::atomic<bool> peer_closed{false};
  std::atomic<bool> peer_dead{false};
  /// pool.in_flight(), mirrored for stats() (written under send_mutex).
  std::atomic<std::uint32_t> slots_in_flight{0};
  /// Serializes the joins of close().
  std::mutex close_mutex;

  // -- counters (see link_stats) ----------------------------------------------

  // Written under send_mutex.
  detail::counter messages_sent, bytes_sent, waits_for_room, send_wakeups, rejected_returns,
      slots_reclaimed;
  // Written by the receiver thread (or the poller).
  detail::counter messages_received, bytes_received, receiver_sleeps, receive_wakeups,
      rejected_descriptors;
  // Written by the waker thread (polled mode).
  detail::counter waker_sleeps, waker_wakeups;
  std::array<detail::counter, descriptor_fault_count> rejected_by_fault;

  /// The receiver thread (thread mode) or the waker thread (polled mode).
  std::thread receiver;
  std::thread monitor;

  // -- life (link.cpp) --------------------------------------------------------

  /// Builds the state of a claimed segment and starts its threads; if a
  /// thread does not start, closes this side (the peer then gives up at
  /// once).
  [[nodiscard]] static result<std::unique_ptr<state>>
  launch(segment&& seg, side self, const link_config& config, link_handlers handlers,
         detail::unique_fd liveness, detail::unique_fd wake, detail::unique_fd poll_wake,
         bool unlinked);

  /// Starts the receiver and liveness threads. Errors: the system's.
  [[nodiscard]] result<void> start();

  /// Stops the link for `reason` (the first call wins; returns whether this
  /// was it): records what happened to the peer, removes the name, wakes this
  /// end's sleepers. Callable from any thread, with or without send_mutex.
  bool fail(error reason, bool dead, bool closed) noexcept;

  /// See link::close().
  void close() noexcept;

  /// True on this link's receiver thread (inside a handler).
  bool on_receiver_thread() const noexcept;

  /// Removes the segment's name from /dev/shm unless that happened already.
  void unlink_once() noexcept;

  /// Rings this end's own doorbells and the liveness thread's eventfd.
  void wake_local() noexcept;

  /// After a failure or close: every slot the peer held is free again.
  /// Precondition: send_mutex held.
  void reclaim_locked() noexcept;

  link_stats stats() const noexcept;

  // -- sending (link.cpp) -----------------------------------------------------

  result<void> send(std::span<const std::byte> message, clock::time_point deadline);

  /// The error a send gets once the link stopped, or an empty code.
  std::error_code stopped_error() const noexcept;

  /// Turns a wait that did not end ready into a send's error; a broken ring
  /// fails the link. Precondition: send_mutex held.
  std::error_code wait_error(detail::wait_outcome outcome) noexcept;

  /// Is there ring room for `needed` entries? (refreshes the cached tail
  /// with `order`)
  detail::readiness probe_room(std::memory_order order, std::uint64_t needed) noexcept;

  /// Is there a free slot? Takes back whatever the peer returned first.
  detail::readiness probe_slot(std::memory_order order) noexcept;

  bool sender_should_stop() const noexcept {
    // Acquire: a sender that sees the flag returns, and what close() or
    // fail() wrote before setting it is then visible to it.
    return closing.load(std::memory_order_acquire) ||
           stop_reason.load(std::memory_order_acquire) != 0;
  }

  // -- receiving (link_receiver.cpp) ------------------------------------------

  void receive_loop() noexcept;
  /// Copies out, releases and handles up to one batch of whole messages;
  /// returns how many ring entries it took.
  std::uint64_t deliver_batch() noexcept;
  /// Checks and delivers the message starting at `entries[0]` (the rest of
  /// the batch follows it); returns how many entries it occupied.
  std::size_t handle(std::span<const descriptor> entries) noexcept;
  void hand_back(slot_ticket ticket) noexcept;
  /// After a failure: delivers what the peer published before it (bounded by
  /// the ring's capacity), unless the failure was a corrupt ring.
  void drain_after_failure() noexcept;
  detail::readiness probe_messages(std::memory_order order) noexcept;
  bool receiver_should_stop() const noexcept;

  // -- polled receiving (link_poller.cpp) -------------------------------------

  /// See link::poll().
  std::size_t poll() noexcept;
  /// See link::prepare_sleep().
  bool prepare_sleep() noexcept;
  /// The waker thread of polled mode: watches the data doorbell while the
  /// poller sleeps and writes poll_wake when a message comes or the link
  /// stops.
  void waker_loop() noexcept;
  /// Delivers what the peer published before the failure, then calls
  /// on_failure; once. Poller only.
  void report_failure_once() noexcept;
  /// The waker's look at the ring: shared indices only, never the poller's
  /// cached ones.
  detail::readiness probe_pending(std::memory_order order) const noexcept;
  /// True on the thread that last polled.
  bool on_poller_thread() const noexcept;
  /// A sender's stop condition; on the poller's thread it also takes the
  /// messages that came meanwhile (INV-POLL-02).
  bool drain_while_waiting() noexcept;

  // -- liveness (link_monitor.cpp) --------------------------------------------

  void monitor_loop() noexcept;

  /// One look at the peer's side block: attach, epoch, closed state and
  /// heartbeat. Returns false once the link failed.
  bool watch_peer(detail::peer_watch& watch, clock::time_point started) noexcept;

  // -- waiting ----------------------------------------------------------------

  /// Waits until `probe` says ready or broken, `stop()` says stop, or
  /// `deadline` passes: spins up to `config.spin`, then sleeps on `b` in
  /// slices of at most `slice` (`config.max_sleep` when zero). Sets
  /// `*slept` if it slept.
  template <class Probe, class Stop>
  detail::wait_outcome wait_on(bell& b, Probe&& probe, Stop&& stop, clock::time_point deadline,
                               bool* slept = nullptr,
                               clock::duration slice = clock::duration::zero()) noexcept;
};

template <class Probe, class Stop>
detail::wait_outcome link::state::wait_on(bell& b, Probe&& probe, Stop&& stop,
                                          clock::time_point deadline, bool* slept,
                                          clock::duration slice) noexcept {
  using detail::readiness;
  using detail::wait_outcome;
  const auto outcome_of = [](readiness r) {
    return r == readiness::ready ? wait_outcome::ready : wait_outcome::broken;
  };
  // Spin: the cheap acquire probe, with the clock read only every 64 rounds.
  const auto spin_end = clock::now() + config.spin;
  for (unsigned round = 0;; ++round) {
    if (auto p = probe(std::memory_order_acquire); p != readiness::not_ready)
      return outcome_of(p);
    if (stop())
      return wait_outcome::stopped;
    if (round % 64 == 63) {
      const auto now = clock::now();
      if (now >= deadline)
        return wait_outcome::timed_out;
      if (now >= spin_end)
        break;
    }
    cpu_relax();
  }
  // Sleep: the probe inside sleep_unless uses seq_cst loads (INV-BELL-01).
  for (;;) {
    const auto now = clock::now();
    if (now >= deadline)
      return wait_outcome::timed_out;
    const clock::duration longest = slice > clock::duration::zero() ? slice : config.max_sleep;
    const auto this_sleep = std::min<clock::duration>(longest, deadline - now);
    const bool went = sleep_unless(
        b, [&] { return probe(std::memory_order_seq_cst) != readiness::not_ready || stop(); },
        this_sleep);
    if (went && slept != nullptr)
      *slept = true;
    if (auto p = probe(std::memory_order_acquire); p != readiness::not_ready)
      return outcome_of(p);
    if (stop())
      return wait_outcome::stopped;
  }
}

} // namespace grainflow::shm
