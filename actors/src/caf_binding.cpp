#include "grainflow/actors/caf_binding.hpp"

#include "network_execution_unit.hpp"

#include <caf/actor_control_block.hpp>
#include <caf/execution_unit.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/worker.hpp>
#include <caf/send.hpp>

namespace grainflow::detail {

namespace {

// The CAF worker this thread runs, once grainflow code has run inside an
// actor on it; null on every other thread.
thread_local caf::execution_unit* this_thread_worker = nullptr;
thread_local const caf::execution_unit* this_thread_non_worker = nullptr;

} // namespace

void note_worker(caf::execution_unit* context) noexcept {
  // Only a scheduler worker is tied to its thread; a detached actor's
  // context is not one, and recording it would be wrong for the next actor.
  // The last context found not to be a worker (the network thread's unit,
  // which runs an actor's every call there) skips the dynamic_cast.
  if (this_thread_worker != nullptr || context == nullptr || context == this_thread_non_worker)
    return;
  if (dynamic_cast<caf::scheduler::worker<caf::policy::work_stealing>*>(context) != nullptr)
    this_thread_worker = context;
  else
    this_thread_non_worker = context;
}

caf::execution_unit* enqueue_context(const caf::strong_actor_ptr& target) noexcept {
  auto* worker = this_thread_worker;
  if (worker != nullptr && &worker->system() == target->home_system)
    return worker;
  // On the network thread: the actor runs there, after this delivery.
  return network_execution_unit::on_this_thread(target->home_system);
}

void stop_actor(const caf::strong_actor_ptr& actor) noexcept {
  if (actor)
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}

void remove_on_exit(const caf::strong_actor_ptr& actor, flow_transport& transport,
                    const endpoint& base, std::size_t count) {
  actor->get()->attach_functor(
      [&transport, base, count] { transport.remove_endpoint(base, count); });
}

} // namespace grainflow::detail
