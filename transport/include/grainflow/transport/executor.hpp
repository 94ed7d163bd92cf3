#pragma once

/// @file
/// The executor: the one thread that runs the transport's work and timers.

#include <chrono>
#include <cstdint>

#include "grainflow/transport/unique_function.hpp"

namespace grainflow {

/// Time as the transport sees it (the same alias as in providers.hpp, declared
/// again so that providers.hpp may include this header; redeclaring an alias
/// to the same type is allowed).
using time_point = std::chrono::steady_clock::time_point;

/// Names a timer armed by `executor::schedule_at`, for `executor::cancel`.
/// Ids are unique per executor and never reused; `invalid` is never returned
/// by `schedule_at`, so it may stand for "no timer".
enum class timer_id : std::uint64_t { invalid = 0 };

/// Runs posted work and timers on one thread, one callback at a time: the
/// network thread of a real process, or the simulator's only thread. Code that
/// runs on the executor (the transport's connection handling) therefore needs
/// no locks among its callbacks.
///
/// Implementations: `asio_network::loop()` (one OS thread per process) and,
/// later, the simulator's deterministic executor (virtual time, one thread for
/// a whole cluster). Nothing here may assume which.
///
/// Callbacks must not throw: the executor has no one to hand an exception to
/// (the real one lets it end the process, like an exception leaving a thread).
class executor {
public:
  virtual ~executor();

  // -- properties -------------------------------------------------------------

  /// Returns whether the calling thread is the one that runs this executor's
  /// callbacks right now. False on every thread while the executor is not
  /// running (before it started, after it stopped). Any thread.
  [[nodiscard]] virtual bool in_executor_thread() const noexcept = 0;

  // -- operations -------------------------------------------------------------

  /// Runs `task` on the executor thread soon, never inside this call (also not
  /// when called on the executor thread), and wakes the executor if it sleeps.
  /// Tasks posted by one thread run in the order posted; tasks of different
  /// threads interleave in some order. Posting before the executor started is
  /// fine: the task runs once it starts. After the executor stopped, `task` is
  /// destroyed without running, on the calling thread.
  ///
  /// Thread safety: any thread, concurrently.
  virtual void post(unique_function<void()> task) = 0;

  /// Runs `callback` on the executor thread once the executor's clock reaches
  /// `when` (a `when` in the past means "soon"). Timers fire in order of
  /// `when`; timers with equal `when` fire in the order they were scheduled.
  /// How timers interleave with posted tasks is unspecified. After the executor
  /// stopped, `callback` is destroyed without running and the returned id
  /// names nothing.
  ///
  /// Thread safety: any thread, concurrently.
  virtual timer_id schedule_at(time_point when, unique_function<void()> callback) = 0;

  /// Prevents timer `id` from firing. Returns true when it did: the callback
  /// will never run and was destroyed, on the calling thread, before this call
  /// returned. Returns false when the timer already fired (or is firing right
  /// now, on the executor thread), was cancelled before, or never existed.
  ///
  /// Thread safety: any thread, concurrently. A cancel racing with the timer's
  /// expiry has exactly one outcome: either it returns true and the callback
  /// never runs, or it returns false and the callback runs (or ran).
  virtual bool cancel(timer_id id) = 0;
};

} // namespace grainflow
