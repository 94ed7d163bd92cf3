#pragma once

/// @file
/// Running a workload for one seed, and summing many seeds up.

#include "grainflow/simulation/buggify.hpp"
#include "grainflow/simulation/chaos.hpp"
#include "grainflow/simulation/sim_network.hpp"
#include "grainflow/simulation/simulation.hpp"
#include "grainflow/simulation/workload.hpp"

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

namespace grainflow::sim {

/// What one seed did.
struct run_result {
  std::uint64_t seed = 0;
  bool passed = false;
  /// The first violated invariant, or why the run did not finish.
  std::string failure;
  /// The run's fingerprint: equal for two runs of one seed.
  std::uint64_t trace_hash = 0;
  std::uint64_t events = 0;
  /// Virtual time the run took.
  duration virtual_time{};
  std::map<std::string, std::uint64_t, std::less<>> coverage;
  std::map<std::string, buggify::site_stats, std::less<>> sites;
  network_stats network;
  chaos_stats faults;
};

/// Runs `entry`'s workload once, under `options` (its seed): setup, faults,
/// the run to completion, settling, the checks. Never throws for a failed
/// run; the result says why.
[[nodiscard]] run_result run_workload(const workload_entry& entry, const run_options& options);

/// Coverage over many seeds: for each sometimes-assertion, in how many runs
/// it was reached; for each buggify site, in how many runs it was active and
/// fired.
class coverage_report {
public:
  /// Adds one run.
  void add(const run_result& run);

  /// Runs added.
  [[nodiscard]] std::uint64_t runs() const noexcept { return runs_; }

  /// Sometimes-assertions never reached in any run.
  [[nodiscard]] std::vector<std::string> unreached() const;

  /// Prints the table.
  void print(std::FILE* out) const;

private:
  struct probe {
    std::uint64_t runs_reached = 0;
    std::uint64_t hits = 0;
  };
  struct site {
    std::uint64_t runs_active = 0;
    std::uint64_t runs_fired = 0;
    std::uint64_t fired = 0;
  };

  std::uint64_t runs_ = 0;
  std::map<std::string, probe, std::less<>> probes_;
  std::map<std::string, site, std::less<>> sites_;
};

} // namespace grainflow::sim
