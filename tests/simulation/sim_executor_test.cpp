// Scenarios of a simulated process's executor: the contract of
// grainflow::executor (executor.hpp) on virtual time — posts in order, never
// inside post; timers in deadline order on the process's clock; exact
// cancel; stop drops and destroys; "the executor thread" is the process's
// own code.

#include "grainflow/simulation/sim_clock.hpp"
#include "grainflow/simulation/sim_executor.hpp"
#include "grainflow/simulation/sim_scheduler.hpp"
#include "grainflow/simulation/trace.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace grainflow::sim {
namespace {

using namespace std::chrono_literals;

class sim_executor_test : public ::testing::Test {
protected:
  void run_all() {
    while (scheduler_.run_next()) {
    }
  }

  trace log_;
  sim_scheduler scheduler_{log_, time_point{}};
  sim_clock clock_{scheduler_, time_point{}, time_point{} + 2h, 700};
  sim_executor loop_{scheduler_, clock_, 3};
};

TEST_F(sim_executor_test, posts_run_in_order_never_inside_post_and_on_the_executor_thread) {
  loop_.start();
  std::vector<int> order;
  {
    sim_scheduler::acting_as scope{scheduler_, 3};
    for (int i = 0; i < 10; ++i)
      loop_.post([&, i] {
        EXPECT_TRUE(loop_.in_executor_thread());
        order.push_back(i);
      });
    EXPECT_TRUE(order.empty()) << "never inside post";
  }
  EXPECT_FALSE(loop_.in_executor_thread()) << "between events no process runs";
  run_all();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST_F(sim_executor_test, timers_fire_in_deadline_order_when_the_process_clock_reaches_them) {
  loop_.start();
  std::vector<int> order;
  const auto base = clock_.now();
  for (int i : {5, 1, 4, 2, 3})
    loop_.schedule_at(base + std::chrono::milliseconds{i}, [&, i] {
      EXPECT_GE(clock_.now(), base + std::chrono::milliseconds{i});
      order.push_back(i);
    });
  // Two timers for one local instant fire in the order they were set.
  loop_.schedule_at(base + 6ms, [&] { order.push_back(6); });
  loop_.schedule_at(base + 6ms, [&] { order.push_back(7); });
  run_all();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5, 6, 7}));
}

TEST_F(sim_executor_test, cancel_has_exactly_one_outcome) {
  loop_.start();
  auto witness = std::make_shared<int>(0);
  bool fired = false;
  const auto id = loop_.schedule_at(clock_.now() + 1ms, [&fired, held = witness] { fired = true; });
  EXPECT_EQ(witness.use_count(), 2);
  EXPECT_TRUE(loop_.cancel(id));
  EXPECT_EQ(witness.use_count(), 1) << "destroyed before cancel returned";
  EXPECT_FALSE(loop_.cancel(id));
  const auto later = loop_.schedule_at(clock_.now() + 1ms, [&fired] { fired = true; });
  run_all();
  EXPECT_TRUE(fired);
  EXPECT_FALSE(loop_.cancel(later)) << "already fired";
}

TEST_F(sim_executor_test, work_given_before_start_waits_for_it_and_stop_drops_everything) {
  bool early = false;
  loop_.post([&] { early = true; });
  run_all();
  EXPECT_FALSE(early);
  loop_.start();
  run_all();
  EXPECT_TRUE(early);
  auto witness = std::make_shared<int>(0);
  bool ran = false;
  loop_.post([&ran, held = witness] { ran = true; });
  loop_.schedule_at(clock_.now() + 1s, [&ran, held = witness] { ran = true; });
  loop_.stop();
  EXPECT_EQ(witness.use_count(), 1) << "dropped work is destroyed";
  loop_.post([&ran] { ran = true; });
  run_all();
  EXPECT_FALSE(ran);
  EXPECT_FALSE(loop_.in_executor_thread());
}

} // namespace
} // namespace grainflow::sim
