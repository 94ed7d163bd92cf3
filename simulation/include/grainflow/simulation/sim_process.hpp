#pragma once

/// @file
/// One simulated process: its transport and its actor system, on simulated
/// providers, through every life from boot to kill.

#include "grainflow/simulation/fwd.hpp"
#include "grainflow/simulation/sim_network.hpp"
#include "grainflow/transport/flow_transport.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace caf::scheduler {
class test_coordinator;
} // namespace caf::scheduler

namespace grainflow::sim {

/// A workload's code on one process life: made when the process boots
/// (spawning actors, serving endpoints, publishing them), destroyed when it
/// dies. A role may hold actor handles: stop() must make its actors
/// terminate, and the destructor runs before the actor system goes.
class process_role {
public:
  virtual ~process_role();
  /// The process dies: send your actors an exit (they run once more to
  /// process it), stop using the transport.
  virtual void stop() noexcept {}
};

/// Makes a process's role at each boot.
using role_factory = std::function<std::unique_ptr<process_role>(sim_process&)>;

/// What a process is.
struct process_spec {
  /// For traces and reports.
  std::string name;
  /// Its transport's settings; the simulator sets local_address (its
  /// machine's address, port 4500).
  transport_config transport;
  /// Its code (none: a process that only routes, e.g. a bystander).
  role_factory role;
};

/// One simulated process on its machine: a flow_transport on the simulated
/// network, clock and random source, and a CAF actor system whose scheduler
/// is CAF's deterministic test_coordinator — nothing runs on a thread of its
/// own. The simulation runs its actors' jobs (run_actors) between network
/// events; their timeouts follow the machine's clock.
///
/// A kill is abrupt: the network ends the process's connections first (as
/// the machine's kernel would, or silence), so nothing it does afterwards
/// reaches anyone; then its actors, transport and role are torn down. A boot
/// after a kill is a new life: a new incarnation, new endpoints, the same
/// machine, address and clock.
///
/// Thread safety: none; the simulation's thread only.
class sim_process {
public:
  /// The port every simulated process listens on.
  static constexpr std::uint16_t port = 4500;

  // -- construction -----------------------------------------------------------

  /// A process on machine `id`, down until boot().
  sim_process(simulation& sim, process_id id, process_spec spec, sim_clock& clock);

  /// Kills the process if it is up.
  ~sim_process();

  sim_process(const sim_process&) = delete;
  sim_process& operator=(const sim_process&) = delete;

  // -- properties -------------------------------------------------------------

  [[nodiscard]] process_id id() const noexcept { return id_; }
  [[nodiscard]] const std::string& name() const noexcept { return spec_.name; }
  /// Where it listens (the same in every life).
  [[nodiscard]] network_address address() const noexcept;
  /// Lives so far: 1 during the first, 2 after one restart, ...
  [[nodiscard]] std::uint64_t life() const noexcept { return lives_; }
  [[nodiscard]] bool up() const noexcept { return current_ != nullptr; }
  [[nodiscard]] sim_clock& clock() noexcept { return clock_; }
  /// The owning simulation.
  [[nodiscard]] simulation& sim() noexcept { return sim_; }

  /// The current life's parts. @pre up().
  [[nodiscard]] flow_transport& transport();
  [[nodiscard]] caf::actor_system& system();
  [[nodiscard]] sim_executor& loop();
  [[nodiscard]] process_role* role();

  /// True during the current life, false forever once it ended: handlers
  /// capture it to do nothing after their process died.
  [[nodiscard]] std::shared_ptr<const bool> alive() const;

  // -- lifecycle (the simulation calls these) --------------------------------

  /// Starts a new life: executor, network, transport (listening), actor
  /// system, then the role.
  void boot();

  /// Ends the current life abruptly (see the class comment).
  void kill(kill_mode how);

  // -- running ----------------------------------------------------------------

  /// Fires the actor timeouts its clock has reached, then runs its actors'
  /// jobs until none is left. Returns how many jobs ran.
  std::size_t run_actors();

  /// Virtual time of its earliest pending actor timeout, if any.
  [[nodiscard]] std::optional<time_point> next_actor_timeout() const;

private:
  struct life_state;

  std::size_t run_jobs(bool fire_timeouts);

  simulation& sim_;
  process_id id_;
  process_spec spec_;
  sim_clock& clock_;
  std::uint64_t lives_ = 0;
  std::unique_ptr<life_state> current_;
};

} // namespace grainflow::sim
