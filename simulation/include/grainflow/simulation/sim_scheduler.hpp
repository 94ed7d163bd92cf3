#pragma once

/// @file
/// Virtual time and the queue of everything that is due to happen in it.

#include "grainflow/simulation/fwd.hpp"
#include "grainflow/transport/providers.hpp"
#include "grainflow/transport/unique_function.hpp"

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace grainflow::sim {

/// The simulation's one queue of events — posted tasks, timers, network
/// deliveries, faults — in virtual time order, and the virtual time itself.
///
/// Events run one at a time, each to completion, on the thread that drives the
/// simulation, and each runs "as" its owner process (see current()): that is
/// how a process's executor knows that the caller is its network thread.
/// Virtual time jumps from one event to the next; it never moves backwards.
///
/// Order: by due time, then by the owner's local time at which it is due
/// (two timers of one process whose local times map to the same instant keep
/// their order even when its clock runs fast), then by scheduling order.
///
/// Thread safety: none; the simulation's thread only.
class sim_scheduler {
public:
  /// Where an event sits in the queue; also what cancels it.
  struct event_key {
    time_point at;
    time_point local;
    std::uint64_t seq = 0;
    friend auto operator<=>(const event_key&, const event_key&) = default;
  };

  // -- construction -----------------------------------------------------------

  /// A scheduler whose virtual time starts at `start`; `log` fingerprints
  /// every event run.
  sim_scheduler(trace& log, time_point start) noexcept;

  ~sim_scheduler();
  sim_scheduler(const sim_scheduler&) = delete;
  sim_scheduler& operator=(const sim_scheduler&) = delete;

  // -- properties -------------------------------------------------------------

  /// The virtual time.
  [[nodiscard]] time_point now() const noexcept { return now_; }

  /// The process whose code runs right now (an event's owner, or the process
  /// an acting_as scope names); no_process between events.
  [[nodiscard]] process_id current() const noexcept { return current_; }

  /// Events run so far.
  [[nodiscard]] std::uint64_t events_run() const noexcept { return events_run_; }

  /// Events waiting.
  [[nodiscard]] std::size_t pending() const noexcept { return queue_.size(); }

  /// When the earliest waiting event is due; nullopt when none waits.
  [[nodiscard]] std::optional<time_point> next_time() const noexcept;

  // -- operations -------------------------------------------------------------

  /// Queues `run` to run as `owner` at virtual time `at` (the present when
  /// `at` is past); `local` is the owner's clock reading it is due at (see
  /// the order above); `kind` names it in the trace (a string literal).
  event_key schedule(time_point at, time_point local, process_id owner, const char* kind,
                     unique_function<void()> run);

  /// Removes a waiting event and destroys its callback before returning.
  /// Returns false when it is not waiting (ran, running, cancelled).
  bool cancel(const event_key& key) noexcept;

  /// Removes every waiting event of `owner` and hands the callbacks to the
  /// caller, which destroys them (their destructors may schedule again).
  [[nodiscard]] std::vector<unique_function<void()>> take_all_of(process_id owner);

  /// Runs the earliest event, first moving virtual time to it. Returns false
  /// when none waits.
  bool run_next();

  /// Moves virtual time forward to `t` without running anything (a no-op
  /// when `t` is not later than now).
  void advance_to(time_point t) noexcept;

  /// Drops every waiting event (end of a run); their callbacks are destroyed.
  void clear() noexcept;

  /// Runs the enclosing scope as process `who`, restoring the previous one
  /// at its end: code of a process that the simulator calls directly (a
  /// process's start, its actors' jobs, its teardown).
  class acting_as {
  public:
    acting_as(sim_scheduler& scheduler, process_id who) noexcept
        : scheduler_(scheduler)
        , previous_(scheduler.current_) {
      scheduler.current_ = who;
    }
    ~acting_as() { scheduler_.current_ = previous_; }
    acting_as(const acting_as&) = delete;
    acting_as& operator=(const acting_as&) = delete;

  private:
    sim_scheduler& scheduler_;
    process_id previous_;
  };

private:
  struct event {
    process_id owner = no_process;
    const char* kind = "";
    unique_function<void()> run;
  };

  trace& log_;
  time_point now_;
  process_id current_ = no_process;
  std::uint64_t next_seq_ = 0;
  std::uint64_t events_run_ = 0;
  std::map<event_key, event> queue_;
};

} // namespace grainflow::sim
