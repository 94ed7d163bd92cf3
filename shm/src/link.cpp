// A link's life (create, open, close, failure) and its sending side. The
// receiver thread is in link_receiver.cpp, polled receiving in
// link_poller.cpp, the liveness thread in link_monitor.cpp. Invariants:
// shm_link.spec.md.

#include "link_state.hpp"

#include "shm_check.hpp"

#include <cstring>
#include <exception>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace grainflow::shm {

namespace {

using detail::readiness;
using detail::unique_fd;
using detail::wait_outcome;

std::error_code code(error e) noexcept {
  return make_error_code(e);
}

/// A duplicate of the caller's liveness socket (close-on-exec), or invalid
/// for -1.
result<unique_fd> duplicate(int fd) noexcept {
  if (fd < 0)
    return unique_fd{};
  unique_fd copy{::fcntl(fd, F_DUPFD_CLOEXEC, 0)};
  if (!copy.valid())
    return failure(detail::last_system_error());
  return copy;
}

/// Takes `lock` by `deadline`: try_lock, with naps of 50 us between tries.
/// Only a send that finds another send holding the mutex naps; that one is
/// itself waiting for room, so the naps cost nothing it would not wait anyway.
bool lock_by(std::unique_lock<std::mutex>& lock, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (lock.try_lock())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::microseconds{50});
  }
}

/// What both factories need besides the segment: the liveness duplicate,
/// the liveness thread's eventfd and, in polled mode, the poller's.
struct local_fds {
  unique_fd liveness;
  unique_fd wake;
  unique_fd poll_wake;
};

result<local_fds> make_local_fds(int liveness_fd, receive_mode mode) noexcept {
  auto liveness = duplicate(liveness_fd);
  if (!liveness)
    return failure(liveness.error());
  unique_fd wake{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
  if (!wake.valid())
    return failure(detail::last_system_error());
  unique_fd poll_wake;
  if (mode == receive_mode::polled) {
    poll_wake = unique_fd{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    if (!poll_wake.valid())
      return failure(detail::last_system_error());
  }
  return local_fds{std::move(liveness.value()), std::move(wake), std::move(poll_wake)};
}

/// Claims `s` of `seg` for this process: epoch first (the claim itself, a
/// compare-and-swap from 0, so two openers cannot both win), then the state
/// that publishes it.
result<void> claim(segment& seg, side s) noexcept {
  std::uint64_t epoch = 0;
  while (epoch == 0) {
    if (auto ec = detail::random_u64(epoch))
      return failure(ec);
  }
  side_block& block = seg.side_of(s);
  std::uint64_t expected = 0;
  // acq_rel: acquire pairs with nothing we need, release orders nothing
  // before it that matters; what makes the claim exclusive is the RMW's
  // atomicity. acq_rel keeps it simple to reason about on a cold path.
  if (!block.epoch.compare_exchange_strong(expected, epoch, std::memory_order_acq_rel))
    return failure(std::make_error_code(std::errc::device_or_resource_busy));
  block.pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
  // Release: the peer loads the state with acquire and then reads the
  // epoch and pid written above (INV-LIVE-01).
  block.state.store(static_cast<std::uint32_t>(side_state::attached), std::memory_order_release);
  return success();
}

} // namespace

// -- link::state: construction and life ---------------------------------------

link::state::state(segment&& segment_in, side self_in, const link_config& config_in,
                   link_handlers handlers_in, unique_fd liveness_in, unique_fd wake_in)
    : config(config_in)
    , seg(std::move(segment_in))
    , self(self_in)
    , peer(other(self_in))
    , handlers(std::move(handlers_in))
    , liveness(std::move(liveness_in))
    , wake(std::move(wake_in))
    , out(seg.direction(self))
    , in(seg.direction(peer))
    , out_ring(out.messages, seg.message_ring(self), seg.geometry().ring_capacity)
    , returns_in(out.returns, seg.return_ring(self), seg.geometry().return_capacity)
    , pool(seg.geometry().slot_count, seg.generations(self))
    , in_ring(in.messages, seg.message_ring(peer), seg.geometry().ring_capacity)
    , returns_out(in.returns, seg.return_ring(peer), seg.geometry().return_capacity)
    , checker(seg.slab(peer), seg.geometry().slot_size, seg.geometry().slot_count,
              seg.generations(peer)) {}

result<std::unique_ptr<link::state>>
link::state::launch(segment&& seg, side self, const link_config& config, link_handlers handlers,
                    detail::unique_fd liveness, detail::unique_fd wake, detail::unique_fd poll_wake,
                    bool unlinked) {
  std::unique_ptr<state> s;
  try {
    s = std::make_unique<state>(std::move(seg), self, config, std::move(handlers),
                                std::move(liveness), std::move(wake));
  } catch (const std::bad_alloc&) {
    // The segment went with the half-built state, so this side cannot mark
    // itself closed; its heartbeat never moves, and the peer declares it dead
    // after peer_timeout (INV-LIVE-02).
    return failure(std::make_error_code(std::errc::not_enough_memory));
  }
  s->poll_wake = std::move(poll_wake);
  // Relaxed: no other thread of the link runs yet. The liveness thread
  // keeps watching the peer; this only makes stats() right from the start.
  s->unlinked.store(unlinked, std::memory_order_relaxed);
  s->peer_attached.store(s->seg.side_of(s->peer).state.load(std::memory_order_acquire) !=
                             static_cast<std::uint32_t>(side_state::absent),
                         std::memory_order_relaxed);
  if (auto started = s->start(); !started) {
    s->close();
    return failure(started.error());
  }
  return s;
}

result<void> link::state::start() {
  try {
    if (config.receiving == receive_mode::polled)
      receiver = std::thread([this] { waker_loop(); });
    else
      receiver = std::thread([this] { receive_loop(); });
    monitor = std::thread([this] { monitor_loop(); });
  } catch (const std::system_error& e) {
    return failure(e.code());
  }
  return success();
}

bool link::state::fail(error reason, bool dead, bool closed) noexcept {
  // Relaxed: statistics, stored before the failure itself so that whoever
  // sees the failure finds them set.
  if (dead)
    peer_dead.store(true, std::memory_order_relaxed);
  if (closed)
    peer_closed.store(true, std::memory_order_relaxed);
  int expected = 0;
  // acq_rel: the RMW's atomicity makes the first failure win (INV-LIVE-03);
  // release publishes the flags above to the acquire loads of the waiters.
  if (!stop_reason.compare_exchange_strong(expected, static_cast<int>(reason),
                                           std::memory_order_acq_rel))
    return false;
  unlink_once();
  wake_local();
  return true;
}

void link::state::close() noexcept {
  // acq_rel: the first caller does the announcing; later callers only join.
  if (!closing.exchange(true, std::memory_order_acq_rel)) {
    // seq_cst: the peer's receiver reads our state with seq_cst inside its
    // doorbell check (INV-BELL-01), after which it drains what we published.
    seg.side_of(self).state.store(static_cast<std::uint32_t>(side_state::closed),
                                  std::memory_order_seq_cst);
    ring_always(out.data); // the peer's receiver
    ring_always(in.room);  // the peer's waiting senders
    wake_local();
  }
  // From a handler: the receiver thread cannot join itself; it stops when
  // the handler returns, and the destructor joins it.
  if (on_receiver_thread())
    return;
  std::lock_guard guard{close_mutex};
  if (monitor.joinable())
    monitor.join();
  if (receiver.joinable())
    receiver.join();
  liveness.reset(); // the peer sees the hang-up; nobody watches it any more
  unlink_once();
  std::lock_guard send_guard{send_mutex};
  reclaim_locked();
}

void link::state::unlink_once() noexcept {
  // acq_rel: exactly one caller removes the name.
  if (!unlinked.exchange(true, std::memory_order_acq_rel))
    (void)segment::unlink(seg.name());
}

void link::state::wake_local() noexcept {
  ring_always(in.data);  // our receiver thread
  ring_always(out.room); // our waiting senders
  const std::uint64_t one = 1;
  // Nonblocking: a full eventfd counter already means "wake up".
  [[maybe_unused]] auto n = ::write(wake.get(), &one, sizeof one);
  if (config.receiving == receive_mode::polled) {
    // The waker watches the bell only while the poller sleeps: make it look
    // now, so that it sees the stop and wakes the poller (INV-POLL-01).
    // seq_cst: as the poller's own announcement.
    poller_asleep.store(1, std::memory_order_seq_cst);
    ring_always(poller_bell);
  }
}

void link::state::reclaim_locked() noexcept {
  if (stop_reason.load(std::memory_order_acquire) == 0 && !closing.load(std::memory_order_acquire))
    return;
  // INV-SLOT-06: the peer is gone (or we are): nothing will come back
  // through the return ring, so every slot in flight is ours again.
  slots_reclaimed.add(pool.reclaim_all());
  slots_in_flight.store(pool.in_flight(), std::memory_order_relaxed);
}

link_stats link::state::stats() const noexcept {
  link_stats s;
  s.messages_sent = messages_sent.get();
  s.bytes_sent = bytes_sent.get();
  s.messages_received = messages_received.get();
  s.bytes_received = bytes_received.get();
  s.waits_for_room = waits_for_room.get();
  s.receiver_sleeps = receiver_sleeps.get() + waker_sleeps.get();
  s.wakeups_issued = send_wakeups.get() + receive_wakeups.get() + waker_wakeups.get();
  s.rejected_descriptors = rejected_descriptors.get();
  for (std::size_t i = 0; i < descriptor_fault_count; ++i)
    s.rejected_by_fault[i] = rejected_by_fault[i].get();
  s.rejected_returns = rejected_returns.get();
  // Relaxed: snapshots of statistics.
  s.slots_in_flight = slots_in_flight.load(std::memory_order_relaxed);
  s.slots_reclaimed = slots_reclaimed.get();
  s.peer_attached = peer_attached.load(std::memory_order_relaxed);
  s.peer_closed = peer_closed.load(std::memory_order_relaxed);
  s.peer_dead = peer_dead.load(std::memory_order_relaxed);
  if (const int f = stop_reason.load(std::memory_order_acquire); f != 0)
    s.failure = code(static_cast<error>(f));
  else if (closing.load(std::memory_order_acquire))
    s.failure = code(error::transport_closed);
  return s;
}

// -- link::state: sending -----------------------------------------------------

std::error_code link::state::stopped_error() const noexcept {
  if (closing.load(std::memory_order_acquire))
    return code(error::transport_closed);
  if (stop_reason.load(std::memory_order_acquire) != 0)
    return code(error::connection_failed);
  return {};
}

std::error_code link::state::wait_error(wait_outcome outcome) noexcept {
  if (outcome == wait_outcome::timed_out)
    return code(error::timed_out);
  if (outcome == wait_outcome::broken)
    fail(error::malformed_packet, false, false);
  // INV-SLOT-06: we hold the send mutex, so the slots go back now rather
  // than when the liveness thread gets to it.
  reclaim_locked();
  return stopped_error();
}

readiness link::state::probe_room(std::memory_order order, std::uint64_t needed) noexcept {
  return detail::readiness_of(out_ring.refresh(order, needed));
}

readiness link::state::probe_slot(std::memory_order order) noexcept {
  if (returns_in.refresh(order) == ring_status::corrupt)
    return readiness::broken;
  const auto n = returns_in.readable();
  for (std::uint64_t i = 0; i < n; ++i) {
    // INV-SLOT-03: the pool refuses anything not in flight under that
    // generation; we count it and go on.
    if (!pool.take_back(decode_return(returns_in.read(i))))
      rejected_returns.add();
  }
  // Release: nobody waits for room in a return ring (it cannot fill up,
  // INV-SLOT-06), so no doorbell needs this store to be seq_cst.
  returns_in.pop(n, std::memory_order_release);
  slots_in_flight.store(pool.in_flight(), std::memory_order_relaxed);
  return pool.free_count() > 0 ? readiness::ready : readiness::not_ready;
}

result<void> link::state::send(std::span<const std::byte> message, clock::time_point deadline) {
  const auto& g = seg.geometry();
  if (message.size() > g.slot_size)
    return failure(code(error::packet_too_large));
  std::unique_lock lock{send_mutex, std::defer_lock};
  if (deadline == clock::time_point::max())
    lock.lock();
  else if (!lock_by(lock, deadline))
    return failure(code(error::timed_out));
  if (auto stopped = stopped_error()) {
    reclaim_locked();
    return failure(stopped);
  }
  const auto stop = [this] { return drain_while_waiting(); };
  // The poller sleeps in short slices while it waits for room, so that the
  // messages it must take meanwhile wait little (INV-POLL-02).
  const clock::duration slice = config.receiving == receive_mode::polled && on_poller_thread()
                                    ? clock::duration{std::chrono::microseconds{200}}
                                    : clock::duration::zero();
  bool waited = false;
  // The ring entries of this message: an inline payload with its
  // continuations, or one slot descriptor.
  std::array<descriptor, 1 + max_continuation_entries> entries;
  std::size_t count = 1;
  std::optional<slot_ticket> ticket;
  if (message.size() <= max_inline_payload) {
    count = encode_inline(message, entries);
  } else {
    ticket = pool.allocate();
    if (!ticket) {
      // Backpressure, not an error (INV-SLOT-07): wait for a slot to come
      // back.
      waited = true;
      waits_for_room.add();
      const auto outcome = wait_on(
          out.room, [this](std::memory_order o) { return probe_slot(o); }, stop, deadline, nullptr,
          slice);
      if (outcome != wait_outcome::ready)
        return failure(wait_error(outcome));
      ticket = pool.allocate();
      GRAINFLOW_SHM_INVARIANT(ticket.has_value(), "INV-SLOT-01");
    }
    std::memcpy(seg.slab(self) + std::size_t{ticket->slot} * g.slot_size, message.data(),
                message.size());
    entries[0] = make_slot_descriptor({ticket->slot, ticket->generation, 0},
                                      static_cast<std::uint32_t>(message.size()));
  }
  auto status = out_ring.reserve(count);
  if (status == ring_status::full) {
    // Backpressure again (INV-RING-04): wait for the receiver to make room
    // for all of this message's entries.
    if (!waited)
      waits_for_room.add();
    const auto outcome = wait_on(
        out.room, [this, count](std::memory_order o) { return probe_room(o, count); }, stop,
        deadline, nullptr, slice);
    if (outcome != wait_outcome::ready) {
      if (ticket)
        pool.cancel(*ticket);
      return failure(wait_error(outcome));
    }
    status = out_ring.reserve(count);
  }
  if (status != ring_status::ok) {
    if (ticket)
      pool.cancel(*ticket);
    return failure(wait_error(wait_outcome::broken));
  }
  // One publish for all entries: the receiver sees the whole message or none
  // of it.
  for (std::size_t i = 0; i < count; ++i)
    (void)out_ring.try_stage(entries[i]);
  out_ring.publish();
  messages_sent.add();
  bytes_sent.add(message.size());
  slots_in_flight.store(pool.in_flight(), std::memory_order_relaxed);
  if (ring(out.data))
    send_wakeups.add();
  return success();
}

// -- link ---------------------------------------------------------------------

link::link(std::unique_ptr<state> s) noexcept
    : state_(std::move(s)) {}

link::~link() {
  GRAINFLOW_SHM_ALWAYS(!state_->on_receiver_thread(),
                       "precondition: a link is not destroyed by its own handler");
  state_->close();
}

result<std::unique_ptr<link>> link::create(const link_config& config, link_handlers handlers,
                                           int liveness_fd) {
  segment::remove_stale();
  auto fds = make_local_fds(liveness_fd, config.receiving);
  if (!fds)
    return failure(fds.error());
  auto seg = segment::create(config.segment);
  if (!seg)
    return failure(seg.error());
  const std::string name = seg.value().name();
  auto claimed = claim(seg.value(), side::creator);
  auto protected_slab = claimed ? seg.value().protect_slab(side::opener) : claimed;
  if (!protected_slab) {
    (void)segment::unlink(name);
    return failure(protected_slab.error());
  }
  auto s = state::launch(std::move(seg.value()), side::creator, config, std::move(handlers),
                         std::move(fds.value().liveness), std::move(fds.value().wake),
                         std::move(fds.value().poll_wake), false);
  if (!s) {
    (void)segment::unlink(name);
    return failure(s.error());
  }
  return std::unique_ptr<link>{new link{std::move(s.value())}};
}

result<std::unique_ptr<link>> link::open(std::string_view name, const link_config& config,
                                         link_handlers handlers, int liveness_fd) {
  auto fds = make_local_fds(liveness_fd, config.receiving);
  if (!fds)
    return failure(fds.error());
  auto seg = segment::open(name);
  if (!seg)
    return failure(seg.error());
  if (auto claimed = claim(seg.value(), side::opener); !claimed)
    return failure(claimed.error());
  // INV-LIVE-05: both sides have mapped the segment; the name has done its
  // job and goes now, so no crash from here on can leave it behind.
  (void)segment::unlink(name);
  if (auto p = seg.value().protect_slab(side::creator); !p) {
    seg.value()
        .side_of(side::opener)
        .state.store(static_cast<std::uint32_t>(side_state::closed), std::memory_order_release);
    return failure(p.error());
  }
  auto s = state::launch(std::move(seg.value()), side::opener, config, std::move(handlers),
                         std::move(fds.value().liveness), std::move(fds.value().wake),
                         std::move(fds.value().poll_wake), true);
  if (!s)
    return failure(s.error());
  return std::unique_ptr<link>{new link{std::move(s.value())}};
}

const std::string& link::name() const noexcept {
  return state_->seg.name();
}

side link::which() const noexcept {
  return state_->self;
}

segment_config link::geometry() const noexcept {
  return state_->seg.geometry().config();
}

std::size_t link::max_message_size() const noexcept {
  return state_->seg.geometry().slot_size;
}

link_stats link::stats() const noexcept {
  return state_->stats();
}

result<void> link::send(std::span<const std::byte> message) {
  return state_->send(message, std::chrono::steady_clock::time_point::max());
}

result<void> link::send(std::span<const std::byte> message,
                        std::chrono::steady_clock::time_point deadline) {
  return state_->send(message, deadline);
}

void link::close() noexcept {
  state_->close();
}

std::size_t link::poll() noexcept {
  GRAINFLOW_SHM_ALWAYS(state_->config.receiving == receive_mode::polled,
                       "precondition: poll() on a polled link");
  return state_->poll();
}

bool link::prepare_sleep() noexcept {
  GRAINFLOW_SHM_ALWAYS(state_->config.receiving == receive_mode::polled,
                       "precondition: prepare_sleep() on a polled link");
  return state_->prepare_sleep();
}

int link::wake_fd() const noexcept {
  return state_->poll_wake.valid() ? state_->poll_wake.get() : -1;
}

} // namespace grainflow::shm
