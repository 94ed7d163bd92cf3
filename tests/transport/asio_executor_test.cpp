// Scenarios of the network thread's executor (asio_network::loop()): posted
// work runs on one thread in order, timers fire in deadline order and cancel
// exactly, and stop() runs nothing more and destroys everything it dropped.

#include "grainflow/transport/asio_network.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "network_test_support.hpp"

namespace grainflow {
namespace {

using namespace std::chrono_literals;
using test::now;
using test::on_loop;
using test::wait_limit;

class executor_test : public ::testing::Test {
protected:
  void SetUp() override {
    auto created = asio_network::create();
    ASSERT_TRUE(created) << created.error().message();
    net_ = std::move(created).value();
    ASSERT_TRUE(net_->start());
  }

  executor& loop() { return net_->loop(); }

  std::unique_ptr<asio_network> net_;
};

TEST_F(executor_test, posted_tasks_run_on_the_executor_thread_in_order) {
  EXPECT_FALSE(loop().in_executor_thread());
  std::vector<int> order; // executor thread only
  for (int i = 0; i < 100; ++i)
    loop().post([&order, i, this] {
      EXPECT_TRUE(loop().in_executor_thread());
      order.push_back(i);
    });
  const auto seen = on_loop(loop(), [&] { return order; });
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
}

TEST_F(executor_test, a_task_posted_from_the_executor_thread_runs_later_not_inside_post) {
  const bool ran_inside = on_loop(loop(), [&] {
    bool ran = false;
    loop().post([&ran] { ran = true; }); // `ran` outlives it: on_loop waits below
    const bool inside = ran;
    return inside;
  });
  EXPECT_FALSE(ran_inside);
  on_loop(loop(), [] {}); // the inner task ran before this one
}

TEST_F(executor_test, posts_from_many_threads_all_run_one_at_a_time_in_each_threads_order) {
  constexpr int threads = 8;
  constexpr int per_thread = 5000;
  // Plain ints, touched only by tasks: ThreadSanitizer reports any two tasks
  // that ran concurrently.
  int total = 0;
  std::vector<int> last_seen(threads, -1);
  int out_of_order = 0;
  std::vector<std::thread> posters;
  for (int t = 0; t < threads; ++t)
    posters.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        loop().post([&, t, i] {
          ++total;
          auto& last = last_seen[static_cast<std::size_t>(t)];
          if (i != last + 1)
            ++out_of_order;
          last = i;
        });
    });
  for (auto& p : posters)
    p.join();
  const auto [seen_total, seen_disorder] = on_loop(loop(), [&] {
    return std::pair{total, out_of_order};
  });
  EXPECT_EQ(seen_total, threads * per_thread);
  EXPECT_EQ(seen_disorder, 0);
}

TEST_F(executor_test, timers_fire_in_deadline_order_and_equal_deadlines_in_scheduling_order) {
  std::vector<int> fired; // executor thread only
  const auto base = now() + 30ms;
  on_loop(loop(), [&] {
    loop().schedule_at(base + 20ms, [&] { fired.push_back(3); });
    loop().schedule_at(base, [&] { fired.push_back(1); });
    loop().schedule_at(base + 10ms, [&] { fired.push_back(2); });
    loop().schedule_at(base + 10ms, [&] { fired.push_back(22); });
    loop().schedule_at(now() - 1s, [&] { fired.push_back(0); }); // past: soon
  });
  std::promise<void> last;
  loop().schedule_at(base + 40ms, [&] { last.set_value(); });
  ASSERT_EQ(last.get_future().wait_for(wait_limit), std::future_status::ready);
  const auto seen = on_loop(loop(), [&] { return fired; });
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 22, 3}));
  EXPECT_GE(now(), base + 40ms);
}

TEST_F(executor_test, a_cancelled_timer_never_fires_and_cancel_reports_what_happened) {
  std::atomic<int> fired{0};
  const auto cancelled = loop().schedule_at(now() + 20ms, [&] { fired += 100; });
  const auto kept = loop().schedule_at(now() + 20ms, [&] { fired += 1; });
  EXPECT_TRUE(loop().cancel(cancelled));
  EXPECT_FALSE(loop().cancel(cancelled));           // twice
  EXPECT_FALSE(loop().cancel(timer_id{987654321})); // never existed
  std::promise<void> after;
  loop().schedule_at(now() + 60ms, [&] { after.set_value(); });
  ASSERT_EQ(after.get_future().wait_for(wait_limit), std::future_status::ready);
  EXPECT_EQ(fired.load(), 1);
  EXPECT_FALSE(loop().cancel(kept)); // already fired
}

TEST_F(executor_test, cancel_destroys_the_callback_before_returning) {
  auto sentinel = std::make_shared<int>(0);
  const auto id = loop().schedule_at(now() + 1h, [sentinel] {});
  EXPECT_EQ(sentinel.use_count(), 2);
  EXPECT_TRUE(loop().cancel(id));
  EXPECT_EQ(sentinel.use_count(), 1);
}

TEST_F(executor_test, a_cancel_racing_the_expiry_has_exactly_one_outcome) {
  // Each round: a timer due now, cancelled from this thread while the
  // executor fires it. Either cancel wins (true, never runs) or the timer does.
  constexpr int rounds = 300;
  std::atomic<int> ran{0};
  int cancelled = 0;
  for (int i = 0; i < rounds; ++i) {
    const auto id = loop().schedule_at(now(), [&] { ran.fetch_add(1); });
    if (i % 3 != 0)
      std::this_thread::yield();
    if (loop().cancel(id))
      ++cancelled;
  }
  on_loop(loop(), [] {});
  std::promise<void> settled; // every due timer of the rounds fired by now + 20ms
  loop().schedule_at(now() + 20ms, [&] { settled.set_value(); });
  ASSERT_EQ(settled.get_future().wait_for(wait_limit), std::future_status::ready);
  EXPECT_EQ(ran.load() + cancelled, rounds);
}

TEST_F(executor_test, an_earlier_timer_scheduled_from_another_thread_rearms_the_wait) {
  std::promise<void> early;
  loop().schedule_at(now() + 10s, [] { ADD_FAILURE() << "the late timer fired"; });
  const auto start = now();
  loop().schedule_at(now() + 10ms, [&] { early.set_value(); });
  ASSERT_EQ(early.get_future().wait_for(wait_limit), std::future_status::ready);
  EXPECT_LT(now() - start, 2s);
}

TEST_F(executor_test, a_timer_callback_may_schedule_and_cancel_timers) {
  std::promise<std::vector<int>> result;
  auto fired = std::make_shared<std::vector<int>>();
  loop().schedule_at(now() + 5ms, [&, fired] {
    fired->push_back(1);
    const auto doomed = loop().schedule_at(now() + 5ms, [fired] { fired->push_back(99); });
    loop().schedule_at(now() + 10ms, [&, fired] {
      fired->push_back(2);
      result.set_value(*fired);
    });
    EXPECT_TRUE(loop().cancel(doomed));
  });
  auto future = result.get_future();
  ASSERT_EQ(future.wait_for(wait_limit), std::future_status::ready);
  EXPECT_EQ(future.get(), (std::vector<int>{1, 2}));
}

TEST(executor_lifecycle, work_posted_before_start_runs_after_start) {
  auto net = std::move(asio_network::create()).value();
  std::promise<bool> ran;
  net->loop().post([&] { ran.set_value(net->loop().in_executor_thread()); });
  ASSERT_TRUE(net->start());
  auto future = ran.get_future();
  ASSERT_EQ(future.wait_for(wait_limit), std::future_status::ready);
  EXPECT_TRUE(future.get());
}

TEST(executor_lifecycle, stop_runs_nothing_more_and_destroys_what_it_dropped) {
  auto net = std::move(asio_network::create()).value();
  ASSERT_TRUE(net->start());
  auto sentinel = std::make_shared<int>(0);
  std::atomic<bool> timer_ran{false};
  std::promise<void> blocker_started;
  std::promise<void> release_blocker;
  // Hold the executor in one task so that the work below queues behind it.
  net->loop().post([&] {
    blocker_started.set_value();
    release_blocker.get_future().wait();
  });
  blocker_started.get_future().wait();
  for (int i = 0; i < 10; ++i)
    net->loop().post([sentinel] {}); // may run before stop's shutdown: no matter
  net->loop().schedule_at(now() + 1h, [sentinel, &timer_ran] { timer_ran = true; });
  release_blocker.set_value();
  net->stop();
  EXPECT_FALSE(timer_ran.load());
  EXPECT_FALSE(net->loop().in_executor_thread());
  EXPECT_EQ(sentinel.use_count(), 1); // every callable is gone, run or not
  // After stop: accepted and destroyed at once, never run.
  net->loop().post([sentinel] { ADD_FAILURE() << "ran after stop"; });
  const auto id =
      net->loop().schedule_at(now(), [sentinel] { ADD_FAILURE() << "fired after stop"; });
  EXPECT_EQ(sentinel.use_count(), 1);
  EXPECT_FALSE(net->loop().cancel(id));
  EXPECT_FALSE(net->start()); // stop is final
  net->stop();                // idempotent
}

TEST(executor_lifecycle, a_network_that_never_started_stops_cleanly) {
  auto sentinel = std::make_shared<int>(0);
  {
    auto net = std::move(asio_network::create()).value();
    net->loop().post([sentinel] { ADD_FAILURE() << "ran without a thread"; });
    net->loop().schedule_at(now(), [sentinel] { ADD_FAILURE() << "fired without a thread"; });
  }
  EXPECT_EQ(sentinel.use_count(), 1);
}

} // namespace
} // namespace grainflow
