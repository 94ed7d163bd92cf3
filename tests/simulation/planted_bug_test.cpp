// Proof that the simulator bites: with a transport bug planted on purpose —
// the reliable session's replay after a reconnect starts one packet late
// (grainflow/transport/planted_bug.hpp) — seeds that pass without it fail,
// and each failing seed fails the same way again when replayed alone.

#include "workloads.hpp"

#include "grainflow/simulation/runner.hpp"
#include "grainflow/transport/planted_bug.hpp"

#include <gtest/gtest.h>

#include <string>

namespace grainflow::sim {
namespace {

/// Plants the bug for one scope: other tests in this process never see it.
class planted {
public:
  explicit planted(testing::planted_bug bug) { testing::plant_bug(bug); }
  ~planted() { testing::plant_bug(testing::planted_bug::none); }
  planted(const planted&) = delete;
  planted& operator=(const planted&) = delete;
};

class planted_bug_test : public ::testing::TestWithParam<const char*> {};

/// A lost packet shows as calls that never resolve: a shorter wait for
/// them than a normal run's keeps the test quick.
run_options options_for(std::uint64_t seed) {
  run_options options;
  options.seed = seed;
  options.liveness_time = std::chrono::seconds{20};
  return options;
}

TEST_P(planted_bug_test, replay_starting_one_packet_late_is_caught_within_the_seeds) {
  const auto* entry = workloads::find(GetParam());
  ASSERT_NE(entry, nullptr);
  constexpr std::uint64_t seeds = 3;
  std::vector<run_result> clean;
  for (std::uint64_t seed = 0; seed < seeds; ++seed) {
    clean.push_back(run_workload(*entry, options_for(seed)));
    ASSERT_TRUE(clean.back().passed) << "seed " << seed << " must pass without the bug";
  }
  std::vector<run_result> buggy;
  {
    planted bug{testing::planted_bug::replay_starts_one_late};
    for (std::uint64_t seed = 0; seed < seeds; ++seed) {
      buggy.push_back(run_workload(*entry, options_for(seed)));
    }
    // A failing seed replays exactly when run alone.
    for (const auto& failed : buggy)
      if (!failed.passed) {
        const auto again = run_workload(*entry, options_for(failed.seed));
        EXPECT_FALSE(again.passed);
        EXPECT_EQ(again.trace_hash, failed.trace_hash);
        EXPECT_EQ(again.failure, failed.failure);
        break;
      }
  }
  std::size_t caught = 0;
  for (const auto& run : buggy)
    if (!run.passed) {
      ++caught;
      std::printf("planted bug caught by %s seed %llu: %s\n", GetParam(),
                  static_cast<unsigned long long>(run.seed), run.failure.c_str());
    }
  EXPECT_GT(caught, 0u) << "the simulator missed a transport that loses packets on replay";
}

INSTANTIATE_TEST_SUITE_P(workloads, planted_bug_test, ::testing::Values("ping", "rpc"),
                         [](const auto& info) { return std::string{info.param}; });

} // namespace
} // namespace grainflow::sim
