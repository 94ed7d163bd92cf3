#include "grainflow/simulation/sim_executor.hpp"

#include "grainflow/simulation/sim_clock.hpp"

namespace grainflow::sim {

sim_executor::sim_executor(sim_scheduler& scheduler, const sim_clock& clock,
                           process_id owner) noexcept
    : scheduler_(scheduler)
    , clock_(clock)
    , owner_(owner) {}

sim_executor::~sim_executor() {
  stop();
}

bool sim_executor::in_executor_thread() const noexcept {
  return state_ == state::running && scheduler_.current() == owner_;
}

void sim_executor::post(unique_function<void()> task) {
  if (state_ == state::stopped)
    return; // destroyed here, on the calling thread, as documented
  if (state_ == state::created) {
    early_posts_.push_back(std::move(task));
    return;
  }
  scheduler_.schedule(scheduler_.now(), clock_.now(), owner_, "post", std::move(task));
}

timer_id sim_executor::schedule_at(time_point when, unique_function<void()> callback) {
  if (state_ == state::stopped)
    return timer_id{next_timer_++}; // names nothing: cancel() returns false
  const std::uint64_t id = next_timer_++;
  if (state_ == state::created)
    early_timers_.push_back(early_timer{when, id, std::move(callback)});
  else
    arm(id, when, std::move(callback));
  return timer_id{id};
}

void sim_executor::arm(std::uint64_t id, time_point when, unique_function<void()> callback) {
  auto fire = [this, id, callback = std::move(callback)]() mutable {
    timers_.erase(id);
    callback();
  };
  timers_[id] = scheduler_.schedule(clock_.world_at(when), when, owner_, "timer", std::move(fire));
}

bool sim_executor::cancel(timer_id id) {
  auto raw = static_cast<std::uint64_t>(id);
  if (state_ == state::created) {
    for (auto i = early_timers_.begin(); i != early_timers_.end(); ++i)
      if (i->id == raw) {
        auto gone = std::move(*i);
        early_timers_.erase(i);
        return true;
      }
    return false;
  }
  auto found = timers_.find(raw);
  if (found == timers_.end())
    return false;
  auto key = found->second;
  timers_.erase(found);
  return scheduler_.cancel(key);
}

void sim_executor::start() {
  if (state_ != state::created)
    return;
  state_ = state::running;
  auto posts = std::move(early_posts_);
  auto timers = std::move(early_timers_);
  for (auto& task : posts)
    post(std::move(task));
  for (auto& timer : timers)
    arm(timer.id, timer.when, std::move(timer.callback));
}

void sim_executor::stop() noexcept {
  if (state_ == state::stopped)
    return;
  state_ = state::stopped;
  timers_.clear();
  // Destroyed outside the queue: their destructors may post (refused now).
  auto gone = scheduler_.take_all_of(owner_);
  early_posts_.clear();
  early_timers_.clear();
  gone.clear();
}

} // namespace grainflow::sim
