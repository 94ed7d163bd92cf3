#include "grainflow/simulation/simulation.hpp"

#include "grainflow/simulation/sim_clock.hpp"
#include "grainflow/transport/log.hpp"

#include <algorithm>
#include <string>

namespace grainflow::sim {

namespace {

using namespace std::chrono_literals;

// Machines' clocks: an origin somewhere in their first 1000 hours of uptime,
// and a rate error of up to 100 ppm (1000 ppm when buggified).
constexpr std::int64_t normal_drift_ppm = 100;
constexpr std::int64_t buggified_drift_ppm = 1000;

} // namespace

simulation::simulation(run_options options)
    : options_(options)
    , scheduler_(trace_, time_point{})
    , random_(std::make_shared<sim_random>(options.seed))
    , buggify_(options.seed, *random_, options.faults)
    , assertions_(trace_, scheduler_)
    , network_(scheduler_, *random_, buggify_, trace_)
    , chaos_(*this) {
  trace_.log_to(options.trace_to);
  trace_.mix(options.seed);
  // The transport's warnings (a peer gone quiet, a refused connection) are
  // expected by the hundred under faults: into the trace, not stderr.
  set_log_handler(&simulation::on_transport_warning, this);
}

simulation::~simulation() {
  for (auto& each : processes_)
    each->kill(kill_mode::crash);
  processes_.clear();
  // The network's pipes are referenced by events: drop them while it lives.
  scheduler_.clear();
  set_log_handler(nullptr, nullptr);
}

void simulation::on_transport_warning(void* self, const char* line) noexcept {
  auto& sim = *static_cast<simulation*>(self);
  sim.trace_.note(sim.now(), "p%u transport: %s", sim.scheduler_.current(), line);
}

std::shared_ptr<random_provider> simulation::random_provider_ptr() const noexcept {
  return random_;
}

// -- processes ----------------------------------------------------------------

process_id simulation::add_process(process_spec spec) {
  const auto id = static_cast<process_id>(processes_.size());
  const auto origin = time_point{} + random_->between(duration{1h}, duration{1000h});
  const auto max_drift =
      buggify_.fires("sim.large_clock_drift", 0.5) ? buggified_drift_ppm : normal_drift_ppm;
  const auto drift = static_cast<std::int32_t>(random_->between(-max_drift, max_drift));
  clocks_.push_back(std::make_unique<sim_clock>(scheduler_, now(), origin, drift));
  processes_.push_back(std::make_unique<sim_process>(*this, id, std::move(spec), *clocks_.back()));
  processes_.back()->boot();
  return id;
}

sim_process& simulation::process(process_id id) {
  return *processes_.at(id);
}

void simulation::kill(process_id id, kill_mode how) {
  process(id).kill(how);
}

void simulation::restart(process_id id) {
  process(id).boot();
}

// -- running ------------------------------------------------------------------

void simulation::after(duration delay, const char* kind, unique_function<void()> fn) {
  scheduler_.schedule(now() + delay, now() + delay, no_process, kind, std::move(fn));
}

std::size_t simulation::run_all_actors() {
  std::size_t jobs = 0;
  // Jobs of one process never make jobs of another directly (only through
  // the network, which takes time), so one pass in id order suffices.
  for (auto& each : processes_)
    jobs += each->run_actors();
  return jobs;
}

std::optional<time_point> simulation::next_actor_timeout() const {
  std::optional<time_point> earliest;
  for (const auto& each : processes_)
    if (auto due = each->next_actor_timeout(); due && (!earliest || *due < *earliest))
      earliest = due;
  return earliest;
}

bool simulation::run_until(const std::function<bool()>& done, time_point until) {
  for (;;) {
    run_all_actors();
    if (done())
      return true;
    if (assertions_.failed())
      return false;
    if (scheduler_.events_run() >= options_.max_events) {
      assertions_.fail("sim.event_budget: " + std::to_string(options_.max_events) +
                       " events without finishing (a livelock or a timer storm?)");
      return false;
    }
    const auto event = scheduler_.next_time();
    const auto timeout = next_actor_timeout();
    if (!event && !timeout)
      return done(); // nothing will ever happen again
    const auto next = event && (!timeout || *event <= *timeout) ? *event : *timeout;
    if (next > until) {
      scheduler_.advance_to(until);
      return done();
    }
    if (event && *event == next)
      scheduler_.run_next();
    else
      scheduler_.advance_to(next); // an actor timeout: the next turn fires it
  }
}

} // namespace grainflow::sim
