// Scenarios of the run's random source: a seed names one sequence, and the
// helpers stay within their bounds.

#include "grainflow/simulation/sim_random.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace grainflow::sim {
namespace {

using namespace std::chrono_literals;

TEST(sim_random_test, a_seed_replays_the_same_sequence_and_another_seed_does_not) {
  sim_random a{42};
  sim_random b{42};
  sim_random c{43};
  std::vector<std::uint64_t> first;
  std::vector<std::uint64_t> again;
  std::vector<std::uint64_t> other;
  for (int i = 0; i < 100; ++i) {
    first.push_back(a.next_u64());
    again.push_back(b.next_u64());
    other.push_back(c.next_u64());
  }
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
}

TEST(sim_random_test, helpers_stay_within_their_bounds) {
  sim_random random{7};
  for (int i = 0; i < 10000; ++i) {
    EXPECT_LT(random.below(13), 13u);
    const auto x = random.between(-5, 5);
    EXPECT_GE(x, -5);
    EXPECT_LE(x, 5);
    const auto u = random.unit();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    const auto d = random.log_between(10us, 2s);
    EXPECT_GE(d, 10us);
    EXPECT_LE(d, 2s);
  }
  EXPECT_EQ(random.below(0), 0u);
  EXPECT_FALSE(random.chance(0.0));
  EXPECT_TRUE(random.chance(1.0));
}

} // namespace
} // namespace grainflow::sim
