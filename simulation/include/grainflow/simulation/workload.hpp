#pragma once

/// @file
/// A workload: a cluster, what it does, and what must hold when it is done.

#include "grainflow/simulation/chaos.hpp"
#include "grainflow/simulation/fwd.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace grainflow::sim {

/// One scenario the simulator runs under faults. A run of a workload:
///
///  1. setup(): add the processes (each with its role, which spawns actors
///     and serves endpoints at every boot) — the clients start issuing
///     operations on their own, from their actors, with timers;
///  2. faults (chaos()) until the run's chaos time is over or done();
///  3. faults stop (network healed, every process up); the run goes on until
///     done() — within the liveness time, or the run fails;
///  4. a quiet settle time, then check(): the invariants at quiescence.
///
/// Invariants are checked with sim.check().always(...) as they are observed
/// (a handler that runs twice) and in check(); coverage with sometimes().
class workload {
public:
  virtual ~workload();

  /// Builds the cluster.
  virtual void setup(simulation& sim) = 0;

  /// Which faults this workload's invariants can stand.
  [[nodiscard]] virtual chaos_options chaos(simulation& sim) const;

  /// Whether every operation has been issued and has resolved (or its
  /// caller died).
  [[nodiscard]] virtual bool done() const = 0;

  /// What is still outstanding, for a run that did not finish.
  [[nodiscard]] virtual std::string progress() const = 0;

  /// Checks the invariants at quiescence.
  virtual void check(simulation& sim) = 0;

  /// The sometimes-assertions this workload hopes to reach.
  [[nodiscard]] virtual std::vector<std::string> coverage_goals() const { return {}; }
};

/// A workload by name, for the runner.
struct workload_entry {
  std::string_view name;
  std::string_view summary;
  std::unique_ptr<workload> (*make)();
};

} // namespace grainflow::sim
