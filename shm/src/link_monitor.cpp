// A link's liveness thread: bumps this side's heartbeat, watches the peer's
// heartbeat, state and epoch, and the liveness socket. Invariants:
// INV-LIVE-01..06 in shm_link.spec.md.

#include "link_state.hpp"

#include <poll.h>
#include <pthread.h>

namespace grainflow::shm {

namespace {

int milliseconds(std::chrono::milliseconds d) noexcept {
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(1, d.count()));
}

} // namespace

void link::state::monitor_loop() noexcept {
  ::pthread_setname_np(::pthread_self(), "gf-shm-live");
  const auto started = clock::now();
  side_block& mine = seg.side_of(self);
  detail::peer_watch watch;
  pollfd fds[2] = {{wake.get(), POLLIN, 0}, {liveness.get(), POLLRDHUP, 0}};
  const nfds_t count = liveness.valid() ? 2 : 1;
  const auto stopped = [this] {
    // Acquire: see sender_should_stop.
    return closing.load(std::memory_order_acquire) ||
           stop_reason.load(std::memory_order_acquire) != 0;
  };
  while (!stopped()) {
    // Relaxed: a progress signal only; the peer reads it for change, and no
    // data is published through it (INV-LIVE-02).
    mine.heartbeat.fetch_add(1, std::memory_order_relaxed);
    if (!watch_peer(watch, started))
      break;
    (void)detail::posix_call(
        [&] { return ::poll(fds, count, milliseconds(config.heartbeat_interval)); });
    if (stopped())
      break;
    if (count == 2 && (fds[1].revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)) != 0) {
      // INV-LIVE-04: the socket hung up; a peer that marked itself closed
      // first left on purpose, anything else died. Acquire: the peer stored
      // its closed state (seq_cst) before it closed the socket.
      const bool closed = seg.side_of(peer).state.load(std::memory_order_acquire) ==
                          static_cast<std::uint32_t>(side_state::closed);
      fail(error::connection_failed, !closed, closed);
      break;
    }
  }
  // INV-SLOT-06: once the peer is gone, every slot it held is ours again.
  // Waiting senders were woken by fail() and leave the mutex at once.
  if (stop_reason.load(std::memory_order_acquire) != 0) {
    std::lock_guard guard{send_mutex};
    reclaim_locked();
  }
}

bool link::state::watch_peer(detail::peer_watch& watch, clock::time_point started) noexcept {
  const auto now = clock::now();
  side_block& theirs = seg.side_of(peer);
  // Acquire: the state comes before the epoch and pid it publishes
  // (INV-LIVE-01), and a closed state after everything the peer sent.
  const auto state = static_cast<side_state>(theirs.state.load(std::memory_order_acquire));
  if (state == side_state::absent) {
    // INV-LIVE-06: nobody came; remove the name rather than wait forever.
    if (now - started > config.attach_timeout)
      fail(error::connection_failed, false, false);
    return true;
  }
  // Relaxed: ordered after the acquire load of the state above.
  const std::uint64_t epoch = theirs.epoch.load(std::memory_order_relaxed);
  const std::uint64_t heartbeat = theirs.heartbeat.load(std::memory_order_relaxed);
  if (!watch.attached) {
    watch = {true, epoch, heartbeat, now};
    // Relaxed: a statistic.
    peer_attached.store(true, std::memory_order_relaxed);
    // INV-LIVE-05: both sides have mapped it; the name can go.
    unlink_once();
  } else if (epoch != watch.epoch) {
    // INV-LIVE-01: another process took the peer's place.
    fail(error::connection_failed, true, false);
    return false;
  }
  if (state == side_state::closed) {
    fail(error::connection_failed, false, true);
    return false;
  }
  if (heartbeat != watch.heartbeat) {
    watch.heartbeat = heartbeat;
    watch.heartbeat_moved = now;
  } else if (now - watch.heartbeat_moved > config.peer_timeout) {
    // INV-LIVE-02: stopped or wedged, whatever its socket says.
    fail(error::connection_failed, true, false);
    return false;
  }
  return true;
}

} // namespace grainflow::shm
