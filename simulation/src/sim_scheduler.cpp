#include "grainflow/simulation/sim_scheduler.hpp"

#include "grainflow/simulation/trace.hpp"

#include <cstdio>

namespace grainflow::sim {

sim_scheduler::sim_scheduler(trace& log, time_point start) noexcept
    : log_(log)
    , now_(start) {}

sim_scheduler::~sim_scheduler() {
  clear();
}

std::optional<time_point> sim_scheduler::next_time() const noexcept {
  if (queue_.empty())
    return std::nullopt;
  return queue_.begin()->first.at;
}

sim_scheduler::event_key sim_scheduler::schedule(time_point at, time_point local, process_id owner,
                                                 const char* kind, unique_function<void()> run) {
  event_key key{at < now_ ? now_ : at, local, next_seq_++};
  queue_.emplace(key, event{owner, kind, std::move(run)});
  return key;
}

bool sim_scheduler::cancel(const event_key& key) noexcept {
  auto found = queue_.find(key);
  if (found == queue_.end())
    return false;
  // Out of the queue first: the callback's destructor may schedule.
  auto gone = std::move(found->second.run);
  queue_.erase(found);
  return true;
}

std::vector<unique_function<void()>> sim_scheduler::take_all_of(process_id owner) {
  std::vector<unique_function<void()>> out;
  for (auto i = queue_.begin(); i != queue_.end();) {
    if (i->second.owner == owner) {
      out.push_back(std::move(i->second.run));
      i = queue_.erase(i);
    } else {
      ++i;
    }
  }
  return out;
}

bool sim_scheduler::run_next() {
  if (queue_.empty())
    return false;
  auto node = queue_.extract(queue_.begin());
  now_ = node.key().at;
  ++events_run_;
  auto& due = node.mapped();
  char what[64];
  if (due.owner == no_process)
    std::snprintf(what, sizeof(what), "sim %s", due.kind);
  else
    std::snprintf(what, sizeof(what), "p%u %s", due.owner, due.kind);
  log_.step(now_, what);
  acting_as scope{*this, due.owner};
  due.run();
  return true;
}

void sim_scheduler::advance_to(time_point t) noexcept {
  if (t > now_)
    now_ = t;
}

void sim_scheduler::clear() noexcept {
  // Destructors of the callbacks may schedule more (a connection closing):
  // repeat until the queue stays empty.
  while (!queue_.empty()) {
    std::map<event_key, event> gone;
    gone.swap(queue_);
  }
}

} // namespace grainflow::sim
