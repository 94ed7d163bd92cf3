#include "network_execution_unit.hpp"

#include "grainflow/actors/detail/network_thread.hpp"

#include <caf/actor_system.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include <cassert>

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
  // Jobs still queued hold a reference to their actor; the posted run that
  // would have resumed them holds this unit, so none can be left here.
  assert(queued_.empty() && running_.empty());
}

void network_execution_unit::attach() {
  loop_.post([self = shared_from_this()] { this_thread_unit = self.get(); });
}

void network_execution_unit::detach() noexcept {
  // relaxed: the flag only redirects later jobs; the post below orders the
  // rest.
  detached_.store(true, std::memory_order_relaxed);
  loop_.post([self = shared_from_this()] {
    if (this_thread_unit == self.get())
      this_thread_unit = nullptr;
  });
}

network_execution_unit*
network_execution_unit::on_this_thread(const caf::actor_system* system) noexcept {
  auto* unit = this_thread_unit;
  return unit != nullptr && &unit->system() == system ? unit : nullptr;
}

void network_execution_unit::exec_later(caf::resumable* job) {
  // Called on the network thread only: by a delivery made there, or by an
  // actor this unit runs, for the actors it sends to.
  assert(loop_.in_executor_thread());
  if (detached_.load(std::memory_order_relaxed)) {
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
  const auto deadline = clock::now() + bounds_.turn_budget;
  // Actors woken while these run (one sends to another) join the next turn:
  // the network gets its turn in between.
  running_.swap(queued_);
  for (std::size_t i = 0; i < running_.size(); ++i) {
    auto [job, streak] = running_[i];
    const auto started = clock::now();
    if (detached_.load(std::memory_order_relaxed) || started >= deadline) {
      hand_to_scheduler(job);
      continue;
    }
    switch (job->resume(this, bounds_.max_throughput)) {
    case caf::resumable::resume_later:
      // More messages than one run may take: the rest in the next turn, so
      // what this run sent leaves first. Once such runs in a row took the
      // streak's budget, a worker goes on with them. Either keeps the
      // reference the enqueue added.
      streak += clock::now() - started;
      if (streak < bounds_.streak_budget)
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

void network_execution_unit::hand_to_scheduler(caf::resumable* job) {
  system().scheduler().enqueue(job);
}

} // namespace grainflow::detail
