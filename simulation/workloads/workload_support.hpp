#pragma once

// What the workloads share besides the ledger: client actors that tick on
// the machine's clock, roles that own actors, a directory of services, and
// random call options.

#include "call_ledger.hpp"

#include "grainflow/actors/caf_binding.hpp"
#include "grainflow/actors/interface.hpp"
#include "grainflow/simulation/sim_clock.hpp"
#include "grainflow/simulation/simulation.hpp"

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <functional>
#include <optional>
#include <vector>

namespace grainflow::sim::workloads {

/// Wakes a client actor for its next step.
using tick_atom = caf::atom_constant<caf::atom("simtick")>;

/// A role that owns actors: at the process's death it sends each an exit
/// that cannot be ignored, then lets their handles go.
class actors_role : public process_role {
public:
  /// `on_stop` runs first when the process dies (e.g. to abandon its calls).
  explicit actors_role(std::function<void()> on_stop = {})
      : on_stop_(std::move(on_stop)) {}
  void own(caf::actor actor) { actors_.push_back(std::move(actor)); }
  void stop() noexcept override {
    if (on_stop_)
      on_stop_();
    for (auto& each : actors_)
      caf::anon_send_exit(each, caf::exit_reason::kill);
  }
  ~actors_role() override = default;

private:
  std::function<void()> on_stop_;
  std::vector<caf::actor> actors_;
};

/// Spawns, on `where`, a client actor that runs `step(self)` on every tick
/// — the first after `first` — and ticks again after the delay it returns,
/// until it returns nullopt. The delays run on the machine's clock (CAF's
/// clock is the machine's in simulation).
template <class Step>
caf::actor spawn_ticking(sim_process& where, duration first, Step step) {
  return where.system().spawn([first, step](caf::event_based_actor* self) mutable -> caf::behavior {
    self->delayed_send(self, first, tick_atom::value);
    return {
        [self, step](tick_atom) mutable {
          if (auto next = step(self))
            self->delayed_send(self, *next, tick_atom::value);
        },
    };
  });
}

/// Where a service lives now, as its server's role published it.
struct service_entry {
  process_id where = no_process;
  std::uint64_t life = 0;
  endpoint base;
  bool up = false;
};

/// Transport settings for a simulated process: the defaults, with a resume
/// window well above the chaos' longest outage (so that a session is never
/// abandoned while both processes live), and, when buggified, a small replay
/// buffer (backpressure), odd tick rates, eager liveness checks (disconnects
/// under clogs) and same-process calls through the packet path.
transport_config sim_transport_config(simulation& sim);

/// A random deadline for a call made now on `caller`: none half the time,
/// else short (often missed under faults) or long (rarely missed).
inline std::optional<time_point> random_deadline(simulation& sim, sim_process& caller) {
  using namespace std::chrono_literals;
  const auto roll = sim.random().below(4);
  const auto now = caller.transport().clock().now();
  if (roll < 2)
    return std::nullopt;
  if (roll == 2)
    return now + sim.random().log_between(200us, 50ms);
  return now + sim.random().log_between(500ms, 8s);
}

/// Call options for `deadline`.
inline call_options options_for(const std::optional<time_point>& deadline) {
  return deadline ? call_options::until(*deadline) : call_options{};
}

/// A ledger record for a call about to go from `caller` to `target`.
inline call_record new_call(call_kind kind, sim_process& caller, const service_entry& target,
                            std::optional<time_point> deadline, std::string what) {
  call_record call;
  call.kind = kind;
  call.caller = caller.id();
  call.caller_life = caller.life();
  call.target = target.where;
  call.target_life = target.life;
  call.deadline = deadline;
  call.issued_local = caller.transport().clock().now();
  // The caller's transport may still hold a session with a previous life
  // of the target's machine: its last connection there reached one.
  const auto reached = caller.sim().network().last_life_reached(caller.id(), target.where);
  call.stale_session = reached > 0 && reached < target.life;
  call.what = std::move(what);
  return call;
}

} // namespace grainflow::sim::workloads
