#include "grainflow/simulation/sim_process.hpp"

#include "grainflow/simulation/sim_clock.hpp"
#include "grainflow/simulation/sim_executor.hpp"
#include "grainflow/simulation/simulation.hpp"

#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <string>

namespace grainflow::sim {

namespace {

// A process whose actors keep producing jobs without end (a message loop)
// would never let virtual time move: the run fails instead.
constexpr std::size_t max_jobs_per_turn = 1'000'000;

/// "p<id> <what> <detail>": appended piece by piece (GCC 12 reports a false
/// -Wrestrict at -O2 for `"literal" + std::string` chains here).
std::string step_text(process_id id, const char* what, const std::string& detail) {
  std::string out{"p"};
  out += std::to_string(id);
  out += ' ';
  out += what;
  out += ' ';
  out += detail;
  return out;
}

} // namespace

process_role::~process_role() = default;

/// One life of a process. Member order is construction order; teardown is
/// explicit (see kill).
struct sim_process::life_state {
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  std::unique_ptr<sim_executor> loop;
  std::shared_ptr<network_provider> network;
  std::unique_ptr<flow_transport> transport;
  std::unique_ptr<caf::actor_system_config> actor_config;
  std::unique_ptr<caf::actor_system> system;
  caf::scheduler::test_coordinator* coordinator = nullptr;
  std::unique_ptr<process_role> role;
};

sim_process::sim_process(simulation& sim, process_id id, process_spec spec, sim_clock& clock)
    : sim_(sim)
    , id_(id)
    , spec_(std::move(spec))
    , clock_(clock) {}

sim_process::~sim_process() {
  kill(kill_mode::crash);
}

network_address sim_process::address() const noexcept {
  return sim_network::address_of(id_, port);
}

flow_transport& sim_process::transport() {
  return *current_->transport;
}

caf::actor_system& sim_process::system() {
  return *current_->system;
}

sim_executor& sim_process::loop() {
  return *current_->loop;
}

process_role* sim_process::role() {
  return current_ ? current_->role.get() : nullptr;
}

std::shared_ptr<const bool> sim_process::alive() const {
  static const auto dead = std::make_shared<const bool>(false);
  return current_ ? current_->alive : dead;
}

// -- lifecycle ----------------------------------------------------------------

void sim_process::boot() {
  if (current_)
    return;
  ++lives_;
  auto& scheduler = sim_.scheduler();
  sim_scheduler::acting_as scope{scheduler, id_};
  sim_.log().step(sim_.now(),
                  step_text(id_, "boot", spec_.name + " life " + std::to_string(lives_)));
  auto life = std::make_unique<life_state>();
  life->loop = std::make_unique<sim_executor>(scheduler, clock_, id_);
  life->loop->start();
  life->network = sim_.network().attach(id_, *life->loop, clock_);
  auto config = spec_.transport;
  config.local_address = address();
  config.advertised_address.reset();
  // Non-owning: the clock and the random source outlive every life.
  std::shared_ptr<clock_provider> clock{std::shared_ptr<void>{}, &clock_};
  life->transport = std::make_unique<flow_transport>(
      config, transport_providers{std::move(clock), sim_.random_provider_ptr(), life->network});
  auto listening = life->transport->start_network();
  sim_.check().always(listening.has_value(), "sim.process_listens",
                      listening ? "" : listening.error().message());
  life->actor_config = std::make_unique<caf::actor_system_config>();
  life->actor_config->set("scheduler.policy", caf::atom("testing"));
  life->system = std::make_unique<caf::actor_system>(*life->actor_config);
  life->coordinator = &dynamic_cast<caf::scheduler::test_coordinator&>(life->system->scheduler());
  // CAF's clock is the machine's: actor timeouts (a call's deadline inside
  // an actor, delayed sends) fire when this machine's clock says so.
  life->coordinator->clock().current_time = clock_.now();
  current_ = std::move(life);
  if (spec_.role)
    current_->role = spec_.role(*this);
}

void sim_process::kill(kill_mode how) {
  if (!current_)
    return;
  auto& scheduler = sim_.scheduler();
  sim_scheduler::acting_as scope{scheduler, id_};
  sim_.log().step(sim_.now(), step_text(id_, "kill", spec_.name));
  auto& life = *current_;
  *life.alive = false;
  // The network first: from here on nothing this process does reaches anyone.
  sim_.network().detach(id_, how);
  // Then its code, in the order that lets everything it holds resolve
  // locally (into the void): served actors stop, the role's actors stop,
  // waiting calls fail, handles go, the actor system goes.
  life.transport->stop_serving();
  if (life.role)
    life.role->stop();
  run_jobs(false);
  life.transport->close();
  run_jobs(false);
  life.role.reset();
  run_jobs(false);
  const auto running = life.system->registry().running();
  if (running != 0) {
    sim_.check().fail("sim.actors_outlive_their_process: " + std::to_string(running) +
                      " actors still run on " + spec_.name +
                      " after its role stopped; its role must make them exit");
    life.system->await_actors_before_shutdown(false);
  }
  life.system.reset();
  life.actor_config.reset();
  life.transport.reset();
  life.network.reset();
  life.loop->stop();
  current_.reset();
}

// -- running ------------------------------------------------------------------

std::size_t sim_process::run_actors() {
  if (!current_)
    return 0;
  sim_scheduler::acting_as scope{sim_.scheduler(), id_};
  return run_jobs(true);
}

std::size_t sim_process::run_jobs(bool fire_timeouts) {
  auto& coordinator = *current_->coordinator;
  auto& caf_clock = coordinator.clock();
  std::size_t jobs = 0;
  for (;;) {
    std::size_t fired = 0;
    if (fire_timeouts) {
      const auto local = clock_.now();
      duration ahead{0};
      if (local > caf_clock.current_time)
        ahead = local - caf_clock.current_time;
      fired = caf_clock.advance_time(ahead);
    }
    std::size_t ran = 0;
    while (coordinator.try_run_once()) {
      ++ran;
      if (jobs + ran > max_jobs_per_turn) {
        sim_.check().fail("sim.actor_job_storm: " + spec_.name +
                          "'s actors ran a million jobs without virtual time passing");
        return jobs + ran;
      }
    }
    jobs += ran;
    if (fired == 0 && ran == 0)
      break;
  }
  if (jobs > 0)
    sim_.log().step(sim_.now(), step_text(id_, "actors", std::to_string(jobs)));
  return jobs;
}

std::optional<time_point> sim_process::next_actor_timeout() const {
  if (!current_)
    return std::nullopt;
  const auto& schedule = current_->coordinator->clock().schedule();
  if (schedule.empty())
    return std::nullopt;
  return clock_.world_at(schedule.begin()->first);
}

} // namespace grainflow::sim
