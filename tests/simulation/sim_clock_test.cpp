// Scenarios of a machine's clock: it follows virtual time from its own
// origin at its own rate, monotonically, and a timer for a local time is due
// at the first virtual instant that reaches it.

#include "grainflow/simulation/sim_clock.hpp"
#include "grainflow/simulation/sim_scheduler.hpp"
#include "grainflow/simulation/trace.hpp"

#include <gtest/gtest.h>

namespace grainflow::sim {
namespace {

using namespace std::chrono_literals;

class sim_clock_test : public ::testing::TestWithParam<std::int32_t> {
protected:
  trace log_;
  sim_scheduler scheduler_{log_, time_point{}};
};

TEST_P(sim_clock_test, reads_virtual_time_from_its_origin_at_its_rate) {
  const auto origin = time_point{} + 5h;
  sim_clock clock{scheduler_, time_point{}, origin, GetParam()};
  EXPECT_EQ(clock.now(), origin);
  scheduler_.advance_to(time_point{} + 1s);
  const auto elapsed = clock.now() - origin;
  EXPECT_EQ(elapsed, 1s + std::chrono::microseconds{GetParam()});
}

TEST_P(sim_clock_test, world_at_is_the_first_instant_that_reaches_a_local_time) {
  sim_clock clock{scheduler_, time_point{}, time_point{} + 1h, GetParam()};
  auto previous = time_point{};
  for (auto local = time_point{} + 1h + 1ms; local < time_point{} + 1h + 11ms; local += 997ns) {
    const auto world = clock.world_at(local);
    EXPECT_GE(clock.local_at(world), local);
    EXPECT_LT(clock.local_at(world - 1ns), local);
    EXPECT_GE(world, previous) << "monotonic";
    previous = world;
  }
}

INSTANTIATE_TEST_SUITE_P(drifts, sim_clock_test, ::testing::Values(0, 100, -100, 1000, -1000));

} // namespace
} // namespace grainflow::sim
