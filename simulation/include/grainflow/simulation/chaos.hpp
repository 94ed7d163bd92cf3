#pragma once

/// @file
/// The fault injector: network faults and process kills at random moments.

#include "grainflow/simulation/fwd.hpp"
#include "grainflow/transport/providers.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

namespace grainflow::sim {

/// Which faults a workload wants, and how hard.
struct chaos_options {
  /// Clogs, partitions and severed connections.
  bool network_faults = true;
  /// Kills and restarts of the processes in `killable`.
  bool kills = false;
  std::vector<process_id> killable;
  /// At most this many of them down at once.
  std::size_t max_down = 1;
  /// A process stays down this long before it restarts.
  duration min_downtime = std::chrono::milliseconds{100};
  duration max_downtime = std::chrono::seconds{3};
  /// Mean time between faults (exponential).
  duration mean_interval = std::chrono::milliseconds{400};
  /// The longest clog or partition. Outages do not overlap and are kept well
  /// under the transport's resume window, so "no reliable packet lost while
  /// both processes live" stays a fair invariant.
  duration max_outage = std::chrono::seconds{3};
};

/// Counts of one run's injected faults.
struct chaos_stats {
  std::uint64_t severed = 0;
  std::uint64_t clogs = 0;
  std::uint64_t partitions = 0;
  std::uint64_t kills = 0;
  std::uint64_t power_offs = 0;
  std::uint64_t restarts = 0;
};

/// Injects faults from start() until stop(), at random moments (all drawn
/// from the run's random source): a severed connection (RST, FIN or
/// half-open), a clogged pair or machine, a partition, a killed process
/// (crash or power loss) that restarts after a while. stop() heals the
/// network and restarts every process still down, so that the run can
/// settle and its invariants can be checked.
class chaos {
public:
  explicit chaos(simulation& sim) noexcept;

  /// Starts injecting `options`' faults until virtual time `until`.
  void start(chaos_options options, time_point until);

  /// Stops: no more faults, the network healed, every process up.
  void stop();

  [[nodiscard]] const chaos_stats& stats() const noexcept { return stats_; }

private:
  void schedule_next();
  void inject();
  bool network_fault();
  bool kill_one();
  [[nodiscard]] std::size_t down() const;

  simulation& sim_;
  chaos_options options_;
  time_point until_;
  time_point outage_until_;
  bool running_ = false;
  std::uint64_t generation_ = 0;
  chaos_stats stats_;
};

} // namespace grainflow::sim
