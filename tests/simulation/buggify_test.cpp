// Scenarios of buggify: a site's activation is a function of the seed and
// its name only; inactive sites never fire, active ones fire at their rate.

#include "grainflow/simulation/buggify.hpp"
#include "grainflow/simulation/sim_random.hpp"

#include <gtest/gtest.h>

#include <string>

namespace grainflow::sim {
namespace {

TEST(buggify_test, activation_depends_on_the_seed_and_the_name_not_on_the_order) {
  sim_random random{1};
  buggify forward{99, random};
  buggify backward{99, random};
  std::vector<bool> a;
  std::vector<bool> b(50);
  for (int i = 0; i < 50; ++i)
    a.push_back(forward.active("site." + std::to_string(i)));
  for (int i = 49; i >= 0; --i)
    b[static_cast<std::size_t>(i)] = backward.active("site." + std::to_string(i));
  EXPECT_EQ(a, b);
  int active = 0;
  for (bool each : a)
    active += each ? 1 : 0;
  EXPECT_GT(active, 0) << "about a quarter of the sites are active";
  EXPECT_LT(active, 50);
}

TEST(buggify_test, inactive_sites_never_fire_and_active_ones_fire_at_their_rate) {
  sim_random random{2};
  buggify bug{2024, random};
  std::string on;
  std::string off;
  for (int i = 0; (on.empty() || off.empty()) && i < 1000; ++i) {
    auto name = "site." + std::to_string(i);
    (bug.active(name) ? on : off) = name;
  }
  ASSERT_FALSE(on.empty());
  ASSERT_FALSE(off.empty());
  int fired = 0;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(bug.fires(off, 1.0));
    fired += bug.fires(on, 0.5) ? 1 : 0;
  }
  EXPECT_GT(fired, 400);
  EXPECT_LT(fired, 600);
  EXPECT_EQ(bug.sites().at(on).fired, static_cast<std::uint64_t>(fired) + 1);
}

TEST(buggify_test, a_disabled_buggify_never_fires) {
  sim_random random{3};
  buggify bug{5, random, false};
  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(bug.fires("site." + std::to_string(i), 1.0));
}

} // namespace
} // namespace grainflow::sim
