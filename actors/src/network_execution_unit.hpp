#pragma once

#include "grainflow/transport/executor.hpp"

#include <caf/execution_unit.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

namespace grainflow::detail {

/// Lets the network thread run the actors its deliveries wake, the way
/// FoundationDB runs its actors on the network thread: a request or a reply
/// the thread has just read is handled without waking a CAF worker, and what
/// the handler sends leaves on the same thread, in the same turn.
///
/// An actor blocked on an empty mailbox is scheduled by the enqueue that
/// fills it, through the enqueuing context's exec_later(). Deliveries made on
/// the network thread name this unit as their context (see enqueue_context),
/// so such an actor lands here instead of in the CAF scheduler. The unit runs
/// it after the current network handler, for at most `max_throughput`
/// messages per run; the network gets a turn between runs. An actor that
/// still has messages after running for `streak_budget` in a row, and every
/// actor left once a turn has used up `turn_budget`, goes to the CAF
/// scheduler, so a busy actor cannot keep the thread from the network for
/// long. A handler
/// must not block on the network thread: reply_future::get() there fails at
/// once with resource_deadlock_would_occur (see actors_run_on_this_thread).
///
/// Thread safety: runs on the network thread. exec_later() from any thread
/// (off the network thread it hands the job to the scheduler); attach() and
/// detach() from the thread that owns the node.
class network_execution_unit final : public caf::execution_unit,
                                     public std::enable_shared_from_this<network_execution_unit> {
public:
  struct limits {
    /// Messages an actor handles per inline run.
    ///
    /// Small on purpose: between two runs the answers of the first leave, so
    /// the caller works on them while this process handles the rest. With
    /// everything in one run the two processes took turns, each idle while
    /// the other worked. A depth-64 exchange of 1M get_reply calls between
    /// two processes on two cores made ~200k requests/s with 64 per run,
    /// ~270k with 32, ~430-450k with 16, ~280-310k with 8 (more, smaller
    /// writes).
    std::size_t max_throughput = 16;
    /// Time an actor may run inline in a row, each run ending with messages
    /// left, before it goes to the CAF scheduler.
    std::chrono::microseconds streak_budget{2000};
    /// Time one turn of inline runs may take before the actors still waiting
    /// go to the CAF scheduler.
    std::chrono::microseconds turn_budget{500};
    /// A single run this long gets a warning in the log, at most once per
    /// `long_run_warning_interval`.
    std::chrono::milliseconds long_run{100};
    std::chrono::seconds long_run_warning_interval{10};
  };

  network_execution_unit(caf::actor_system& system, executor& loop, limits bounds);
  ~network_execution_unit() override;

  /// Makes this unit the one deliveries on the network thread use; posted
  /// to that thread, so call it once after construction.
  void attach();

  /// From now on hands every job to the CAF scheduler, and waits (up to 5 s)
  /// until the network thread finished what it was running: the node is
  /// going away.
  void detach() noexcept;

  /// The unit of this thread's network loop for actors of `system`; null on
  /// other threads.
  static network_execution_unit* on_this_thread(const caf::actor_system* system) noexcept;

  void exec_later(caf::resumable* job) override;

private:
  struct queued_job {
    caf::resumable* job;
    // Time of the inline runs this job had in a row, each ending with
    // messages left.
    std::chrono::steady_clock::duration streak;
  };

  void run_queued();
  void enqueue(queued_job next);
  void hand_to_scheduler(caf::resumable* job);
  void warn_long_run(std::chrono::steady_clock::duration took);
  // On the network thread: it no longer runs this unit's actors.
  void forget_on_this_thread() noexcept;

  executor& loop_;
  limits bounds_;
  std::vector<queued_job> queued_;
  std::vector<queued_job> running_;
  bool run_posted_ = false;
  std::chrono::steady_clock::time_point next_long_run_warning_{};
  // Set by detach() on another thread; read on the network thread.
  std::atomic<bool> detached_{false};
};

} // namespace grainflow::detail
