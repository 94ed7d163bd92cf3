// A run is a function of its seed: the same seed twice takes the same steps
// (equal trace hashes, events, virtual time and verdict), and another seed
// takes other steps. This is what makes a failing seed replay exactly.

#include "workloads.hpp"

#include "grainflow/simulation/runner.hpp"

#include <gtest/gtest.h>

#include <string>

namespace grainflow::sim {
namespace {

class determinism_test : public ::testing::TestWithParam<const char*> {};

TEST_P(determinism_test, the_same_seed_twice_gives_the_same_trace) {
  const auto* entry = workloads::find(GetParam());
  ASSERT_NE(entry, nullptr);
  run_options options;
  options.seed = 4242;
  const auto first = run_workload(*entry, options);
  const auto second = run_workload(*entry, options);
  EXPECT_EQ(first.trace_hash, second.trace_hash);
  EXPECT_EQ(first.events, second.events);
  EXPECT_EQ(first.virtual_time, second.virtual_time);
  EXPECT_EQ(first.passed, second.passed);
  EXPECT_EQ(first.failure, second.failure);
  EXPECT_EQ(first.coverage, second.coverage);
  EXPECT_GT(first.events, 100u) << "a run that did nothing proves nothing";

  options.seed = 4243;
  const auto other = run_workload(*entry, options);
  EXPECT_NE(first.trace_hash, other.trace_hash);
}

INSTANTIATE_TEST_SUITE_P(workloads, determinism_test,
                         ::testing::Values("ping", "rpc", "calculator", "kv"),
                         [](const auto& info) { return std::string{info.param}; });

} // namespace
} // namespace grainflow::sim
