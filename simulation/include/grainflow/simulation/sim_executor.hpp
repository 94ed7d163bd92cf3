#pragma once

/// @file
/// A simulated process's network thread: the executor its transport runs on.

#include "grainflow/simulation/fwd.hpp"
#include "grainflow/simulation/sim_scheduler.hpp"
#include "grainflow/transport/executor.hpp"

#include <cstdint>
#include <map>
#include <vector>

namespace grainflow::sim {

/// The executor of one simulated process, on the simulation's scheduler:
/// posted tasks run at the current virtual time, after everything already
/// queued for it (so one process's posts keep their order); timers run when
/// the process's clock reaches their deadline, in deadline order.
///
/// `in_executor_thread()` is true while the scheduler runs code of this
/// process — its events, its actors' jobs, its start and teardown — and the
/// executor runs: in a simulation one thread is every thread of every
/// process, so a process's code is always on "its network thread". Code that
/// would otherwise hand work to the network thread and wait for it (a
/// transport starting to listen, or closing) therefore does it inline, and a
/// sender never blocks on backpressure, which in one thread would never end.
///
/// Lifecycle: created stopped; posts and timers made before start() wait
/// for it. stop() drops everything pending (destroying the callbacks) and
/// refuses everything later — a killed process's network thread.
class sim_executor final : public executor {
public:
  // -- construction -----------------------------------------------------------

  sim_executor(sim_scheduler& scheduler, const sim_clock& clock, process_id owner) noexcept;

  /// Stops, as stop().
  ~sim_executor() override;

  sim_executor(const sim_executor&) = delete;
  sim_executor& operator=(const sim_executor&) = delete;

  // -- properties -------------------------------------------------------------

  [[nodiscard]] bool in_executor_thread() const noexcept override;

  /// Between start() and stop().
  [[nodiscard]] bool running() const noexcept { return state_ == state::running; }

  /// The process whose events these are.
  [[nodiscard]] process_id owner() const noexcept { return owner_; }

  // -- executor ---------------------------------------------------------------

  void post(unique_function<void()> task) override;
  timer_id schedule_at(time_point when, unique_function<void()> callback) override;
  bool cancel(timer_id id) override;

  // -- lifecycle --------------------------------------------------------------

  /// Starts running what was posted or scheduled before.
  void start();

  /// Drops every pending task and timer of this process — including the
  /// network's deliveries to it, which are its events too — and refuses
  /// later ones. Idempotent.
  void stop() noexcept;

private:
  enum class state : std::uint8_t { created, running, stopped };

  struct early_timer {
    time_point when;
    std::uint64_t id = 0;
    unique_function<void()> callback;
  };

  void arm(std::uint64_t id, time_point when, unique_function<void()> callback);

  sim_scheduler& scheduler_;
  const sim_clock& clock_;
  process_id owner_;
  state state_ = state::created;
  std::uint64_t next_timer_ = 1;
  std::map<std::uint64_t, sim_scheduler::event_key> timers_;
  std::vector<unique_function<void()>> early_posts_;
  std::vector<early_timer> early_timers_;
};

} // namespace grainflow::sim
