// The failure monitor's bookkeeping: which calls it fails, with which error,
// and that each tracked call's reference comes back exactly once.

#include "grainflow/endpoints/error.hpp"
#include "grainflow/endpoints/intrusive_ptr.hpp"
#include "grainflow/endpoints/ref_counted.hpp"
#include "grainflow/transport/failure_monitor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace grainflow::test {
namespace {

class counting_watcher final : public ref_counted, public call_watcher {
public:
  void on_call_failed(std::error_code why) noexcept override {
    reason = why;
    failures.fetch_add(1, std::memory_order_relaxed);
  }
  void keep() noexcept override { ref(); }
  void release() noexcept override { deref(); }

  std::error_code reason;
  std::atomic<int> failures{0};
};

using watcher_ptr = intrusive_ptr<counting_watcher>;

const network_address peer_a = network_address::loopback_v4(7001);
const network_address peer_b = network_address::loopback_v4(7002);

endpoint at(const network_address& peer, std::uint64_t token = 1) {
  return endpoint{peer, uid{token, token}};
}

/// A new call to `destination`, tracked by `monitor`.
watcher_ptr tracked_call(failure_monitor& monitor, const endpoint& destination,
                         call_mode mode = call_mode::resume) {
  auto call = make_intrusive<counting_watcher>();
  monitor.track(destination, mode, *call);
  return call;
}

TEST(failure_monitor, holds_a_reference_while_tracking_and_counts_per_peer) {
  failure_monitor monitor;
  std::vector<watcher_ptr> calls;
  for (int i = 0; i < 3; ++i) {
    calls.push_back(tracked_call(monitor, at(peer_a)));
  }
  auto other = tracked_call(monitor, at(peer_b));
  EXPECT_EQ(monitor.tracked(peer_a), 3u);
  EXPECT_EQ(monitor.tracked(peer_b), 1u);
  EXPECT_EQ(calls[1]->use_count(), 2u);
  // Middle, then head and tail of the list.
  monitor.untrack(*calls[1]);
  EXPECT_EQ(calls[1]->use_count(), 1u);
  monitor.untrack(*calls[1]); // not tracked any more: nothing happens
  EXPECT_EQ(calls[1]->use_count(), 1u);
  monitor.untrack(*calls[2]);
  monitor.untrack(*calls[0]);
  EXPECT_EQ(monitor.tracked(peer_a), 0u);
  EXPECT_EQ(monitor.tracked(peer_b), 1u);
  for (auto& call : calls)
    EXPECT_EQ(call->failures.load(), 0);
  monitor.fail_all(error::transport_closed);
  EXPECT_EQ(other->failures.load(), 1);
  EXPECT_EQ(other->reason, error::transport_closed);
  EXPECT_EQ(other->use_count(), 1u);
}

TEST(failure_monitor, a_disconnect_fails_only_fail_fast_calls) {
  failure_monitor monitor;
  monitor.on_connected(peer_a);
  auto waits = tracked_call(monitor, at(peer_a));
  auto hurries = tracked_call(monitor, at(peer_a), call_mode::fail_fast);
  monitor.on_disconnected(peer_a);
  EXPECT_EQ(hurries->failures.load(), 1);
  EXPECT_EQ(hurries->reason, error::request_maybe_delivered);
  EXPECT_EQ(hurries->use_count(), 1u);
  EXPECT_EQ(waits->failures.load(), 0);
  EXPECT_EQ(monitor.tracked(peer_a), 1u);
  monitor.untrack(*waits);
}

TEST(failure_monitor, a_lost_peer_tells_maybe_delivered_from_never_sent) {
  failure_monitor monitor;
  auto before_any_connection = tracked_call(monitor, at(peer_a));
  monitor.on_connected(peer_a);
  auto while_connected = tracked_call(monitor, at(peer_a));
  monitor.on_disconnected(peer_a);
  auto while_down = tracked_call(monitor, at(peer_a));
  monitor.on_peer_lost(peer_a, error::connection_failed);
  // The first call's peer connected after it was made: it may have left.
  EXPECT_EQ(before_any_connection->reason, error::request_maybe_delivered);
  EXPECT_EQ(while_connected->reason, error::request_maybe_delivered);
  EXPECT_EQ(while_down->reason, error::connection_failed);
  EXPECT_EQ(monitor.tracked(peer_a), 0u);
}

TEST(failure_monitor, a_lost_session_keeps_calls_that_never_left) {
  failure_monitor monitor;
  monitor.on_connected(peer_a);
  auto sent = tracked_call(monitor, at(peer_a));
  monitor.on_disconnected(peer_a);
  auto queued = tracked_call(monitor, at(peer_a));
  monitor.on_session_lost(peer_a);
  EXPECT_EQ(sent->reason, error::request_maybe_delivered);
  EXPECT_EQ(queued->failures.load(), 0);
  EXPECT_EQ(monitor.tracked(peer_a), 1u);
  monitor.untrack(*queued);
}

TEST(failure_monitor, endpoint_not_found_fails_the_calls_to_that_token_only) {
  failure_monitor monitor;
  auto to_missing = tracked_call(monitor, at(peer_a, 5));
  auto to_other = tracked_call(monitor, at(peer_a, 6));
  auto same_token_other_peer = tracked_call(monitor, at(peer_b, 5));
  monitor.on_endpoint_not_found(peer_a, uid{5, 5});
  EXPECT_EQ(to_missing->reason, error::endpoint_not_found);
  EXPECT_EQ(to_other->failures.load(), 0);
  EXPECT_EQ(same_token_other_peer->failures.load(), 0);
  monitor.fail_all(error::transport_closed);
  EXPECT_EQ(to_other->reason, error::transport_closed);
  EXPECT_EQ(to_missing->failures.load(), 1); // failed once, not again
}

TEST(failure_monitor, a_call_still_tracked_when_the_monitor_goes_is_released) {
  auto call = make_intrusive<counting_watcher>();
  {
    failure_monitor monitor;
    monitor.track(at(peer_a), call_mode::resume, *call);
    EXPECT_EQ(call->use_count(), 2u);
  }
  EXPECT_EQ(call->use_count(), 1u);
  EXPECT_EQ(call->failures.load(), 0);
}

// Calls that resolve on their own race a peer that keeps failing: each call
// is failed at most once, and every reference the monitor took comes back.
TEST(failure_monitor, untracking_races_failures_without_losing_a_reference) {
  failure_monitor monitor;
  constexpr int threads = 2;
  constexpr int calls_per_thread = 2000;
  std::atomic<bool> done{false};
  std::thread failer{[&] {
    while (!done.load(std::memory_order_acquire)) {
      monitor.on_connected(peer_a);
      monitor.on_peer_lost(peer_a, error::connection_failed);
    }
  }};
  std::vector<std::vector<watcher_ptr>> made(threads);
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t)
    callers.emplace_back([&, t] {
      for (int i = 0; i < calls_per_thread; ++i) {
        auto call = tracked_call(monitor, at(peer_a));
        if (i % 2 == 0)
          monitor.untrack(*call);
        made[t].push_back(std::move(call));
      }
    });
  for (auto& caller : callers)
    caller.join();
  done.store(true, std::memory_order_release);
  failer.join();
  monitor.fail_all(error::transport_closed);
  for (auto& list : made)
    for (auto& call : list) {
      EXPECT_LE(call->failures.load(), 1);
      EXPECT_EQ(call->use_count(), 1u);
    }
  EXPECT_EQ(monitor.tracked(peer_a), 0u);
}

} // namespace
} // namespace grainflow::test
