#include "network_execution_unit.hpp"

#include "grainflow/actors/detail/network_thread.hpp"
#include "grainflow/transport/detail/log_warning.hpp"

#include <caf/actor_system.hpp>
#include <caf/logger.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include <future>

namespace grainflow::detail {

namespace {

// The unit whose loop runs on this thread. Cleared on this thread by the
// task detach() posts, which holds the unit alive until it ran.
thread_local network_execution_unit* this_thread_unit = nullptr;

} // namespace

bool actors_run_on_this_thread() noexcept {
  return this_thread_unit != nullptr;
}

network_execution_unit::network_execution_unit(caf::actor_system& system, executor& loop,
                                               limits bounds)
    : caf::execution_unit(&system)
    , loop_(loop)
    , bounds_(bounds) {}

network_execution_unit::~network_execution_unit() {
  // A run the loop dropped at its shutdown can leave jobs queued here, each
  // holding a reference to its actor. They stay unreleased: by now the
  // actor system may be gone, and releasing them would destroy actors
  // without it.
}

void network_execution_unit::attach() {
  loop_.post([self = shared_from_this()] { this_thread_unit = self.get(); });
}

void network_execution_unit::detach() noexcept {
  // relaxed: the flag only redirects later jobs; the task below orders the
  // rest.
  detached_.store(true, std::memory_order_relaxed);
  if (loop_.in_executor_thread()) {
    forget_on_this_thread();
    return;
  }
  // Waits for the loop to reach this task: the end of an actor's last run
  // on the network thread (CAF counts the actor done before its run ends)
  // is then over, before the node destroys the actor system. A loop that
  // stopped destroys the task unrun, which breaks the promise: no wait.
  try {
    auto cleared = std::make_shared<std::promise<void>>();
    auto done = cleared->get_future();
    loop_.post([self = shared_from_this(), cleared = std::move(cleared)] {
      self->forget_on_this_thread();
      cleared->set_value();
    });
    done.wait_for(std::chrono::seconds{5});
  } catch (...) {
    // Out of memory for the task: nothing to wait for.
  }
}

void network_execution_unit::forget_on_this_thread() noexcept {
  if (this_thread_unit == this)
    this_thread_unit = nullptr;
  // CAF code run here (an actor that spawned another, say) left this
  // thread holding the system's logger; the system waits in its destructor
  // until the logger is released, and this thread outlives the system.
  caf::logger::set_current_actor_system(nullptr);
}

network_execution_unit*
network_execution_unit::on_this_thread(const caf::actor_system* system) noexcept {
  auto* unit = this_thread_unit;
  return unit != nullptr && &unit->system() == system ? unit : nullptr;
}

void network_execution_unit::exec_later(caf::resumable* job) {
  // Mostly on the network thread: a delivery made there, or an actor this
  // unit runs, for the actors it sends to or spawns. But an actor keeps its
  // last context after a run, and CAF uses it from other threads too (a
  // blocking actor spawned by an actor that ran here sends with it; a
  // response promise delivered by another actor): those go to the
  // scheduler, which takes jobs from any thread.
  if (detached_.load(std::memory_order_relaxed) || !loop_.in_executor_thread()) {
    hand_to_scheduler(job);
    return;
  }
  enqueue({job, {}});
}

void network_execution_unit::enqueue(queued_job next) {
  queued_.push_back(next);
  if (!std::exchange(run_posted_, true))
    loop_.post([self = shared_from_this()] { self->run_queued(); });
}

void network_execution_unit::run_queued() {
  run_posted_ = false;
  using clock = std::chrono::steady_clock;
  // One clock read per run: the end of a run is the start of the next.
  auto now = clock::now();
  const auto deadline = now + bounds_.turn_budget;
  // Actors woken while these run (one sends to another) join the next turn:
  // the network gets its turn in between.
  running_.swap(queued_);
  for (std::size_t i = 0; i < running_.size(); ++i) {
    auto [job, streak] = running_[i];
    if (detached_.load(std::memory_order_relaxed) || now >= deadline) {
      hand_to_scheduler(job);
      continue;
    }
    const auto started = now;
    const auto outcome = job->resume(this, bounds_.max_throughput);
    now = clock::now();
    const auto took = now - started;
    if (took >= bounds_.long_run)
      warn_long_run(took);
    switch (outcome) {
    case caf::resumable::resume_later:
      // More messages than one run may take: the rest in the next turn, so
      // what this run sent leaves first. Once such runs in a row took the
      // streak's budget, a worker goes on with them. Either keeps the
      // reference the enqueue added.
      streak += took;
      if (streak < bounds_.streak_budget && !detached_.load(std::memory_order_relaxed))
        enqueue({job, streak});
      else
        hand_to_scheduler(job);
      break;
    case caf::resumable::done:
    case caf::resumable::awaiting_message:
    case caf::resumable::shutdown_execution_unit:
      // The reference the enqueue added for this run.
      intrusive_ptr_release(job);
      break;
    }
  }
  running_.clear();
}

void network_execution_unit::warn_long_run(std::chrono::steady_clock::duration took) {
  // Meanwhile nothing was read or written: pings went unanswered, and peers
  // may have given this process up. Once per interval, so a handler that is
  // always slow does not flood the log.
  const auto now = std::chrono::steady_clock::now();
  if (now < next_long_run_warning_)
    return;
  next_long_run_warning_ = now + bounds_.long_run_warning_interval;
  detail::log_warning(
      "an actor's handler held the network thread for %lld ms in one run; the network "
      "waited meanwhile. Run long or blocking work in a detached actor "
      "(docs/guide/defining-actors-and-interfaces.md, \"Where actors run\")",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
}

void network_execution_unit::hand_to_scheduler(caf::resumable* job) {
  system().scheduler().enqueue(job);
}

} // namespace grainflow::detail
