#pragma once

/// @file
/// One simulated run: a whole cluster in one thread, driven by one seed.

#include "grainflow/simulation/assertions.hpp"
#include "grainflow/simulation/buggify.hpp"
#include "grainflow/simulation/chaos.hpp"
#include "grainflow/simulation/fwd.hpp"
#include "grainflow/simulation/sim_network.hpp"
#include "grainflow/simulation/sim_process.hpp"
#include "grainflow/simulation/sim_random.hpp"
#include "grainflow/simulation/sim_scheduler.hpp"
#include "grainflow/simulation/trace.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

namespace grainflow::sim {

/// How one run goes.
struct run_options {
  std::uint64_t seed = 0;
  /// buggify and chaos on (off: a fault-free run, for debugging a workload).
  bool faults = true;
  /// How long faults are injected (and workloads issue operations).
  duration chaos_time = std::chrono::seconds{20};
  /// How long the workload may take to finish after the faults stopped
  /// before the run fails for liveness.
  duration liveness_time = std::chrono::seconds{60};
  /// After the workload finished: at least this long, then until every
  /// connected peer has all its reliable packets acknowledged (servers may
  /// still answer late, on purpose), at most settle_limit.
  duration settle_time = std::chrono::seconds{3};
  duration settle_limit = std::chrono::seconds{20};
  /// A run that takes more events fails (a livelock, a timer storm).
  std::uint64_t max_events = 20'000'000;
  /// Prints every step of the run here (null: silent).
  std::FILE* trace_to = nullptr;
};

/// One simulated run: virtual time and its events, one seeded random
/// source, buggify, the assertions, the network, the fault injector, and the
/// processes. Everything runs on the thread that calls run_until(): it
/// alternates between running every process's actor jobs until none is left
/// and running the next event (a posted task, a timer, a delivery, a fault)
/// in virtual time order, jumping time to it. Given the same seed and the
/// same workload, every run takes the same steps (trace().hash() proves it).
///
/// Virtual time starts at the steady clock's epoch; each machine's clock reads
/// it from its own origin and at its own drift (sim_clock).
class simulation {
public:
  // -- construction -----------------------------------------------------------

  explicit simulation(run_options options);

  /// Kills every process that is up (crash), then drops every event.
  ~simulation();

  simulation(const simulation&) = delete;
  simulation& operator=(const simulation&) = delete;

  // -- parts ------------------------------------------------------------------

  [[nodiscard]] const run_options& options() const noexcept { return options_; }
  [[nodiscard]] trace& log() noexcept { return trace_; }
  [[nodiscard]] sim_scheduler& scheduler() noexcept { return scheduler_; }
  [[nodiscard]] sim_random& random() noexcept { return *random_; }
  [[nodiscard]] buggify& bug() noexcept { return buggify_; }
  [[nodiscard]] assertions& check() noexcept { return assertions_; }
  [[nodiscard]] sim_network& network() noexcept { return network_; }
  [[nodiscard]] chaos& faults() noexcept { return chaos_; }
  /// The run's random source as a transport's random_provider.
  [[nodiscard]] std::shared_ptr<random_provider> random_provider_ptr() const noexcept;

  /// Virtual time.
  [[nodiscard]] time_point now() const noexcept { return scheduler_.now(); }

  // -- processes --------------------------------------------------------------

  /// Adds a machine with a process on it and boots it. Its clock gets an
  /// origin and a drift drawn from the seed.
  process_id add_process(process_spec spec);

  [[nodiscard]] sim_process& process(process_id id);
  [[nodiscard]] std::size_t process_count() const noexcept { return processes_.size(); }

  /// Kills process `id` if it is up.
  void kill(process_id id, kill_mode how);

  /// Boots process `id` again if it is down.
  void restart(process_id id);

  // -- running ----------------------------------------------------------------

  /// Runs until `done()` holds, a check failed, virtual time would pass
  /// `until`, nothing is left to happen, or the event budget is spent.
  /// Returns `done()`.
  bool run_until(const std::function<bool()>& done, time_point until);

  /// Runs `fn` as the simulator itself after `delay` of virtual time.
  void after(duration delay, const char* kind, unique_function<void()> fn);

private:
  static void on_transport_warning(void* self, const char* line) noexcept;
  std::size_t run_all_actors();
  [[nodiscard]] std::optional<time_point> next_actor_timeout() const;

  run_options options_;
  trace trace_;
  sim_scheduler scheduler_;
  std::shared_ptr<sim_random> random_;
  buggify buggify_;
  assertions assertions_;
  sim_network network_;
  chaos chaos_;
  std::vector<std::unique_ptr<sim_clock>> clocks_;
  std::vector<std::unique_ptr<sim_process>> processes_;
};

} // namespace grainflow::sim
