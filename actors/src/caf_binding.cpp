#include "grainflow/actors/caf_binding.hpp"

namespace grainflow::detail {

void remove_on_exit(const caf::strong_actor_ptr& actor, flow_transport& transport,
                    const endpoint& base, std::size_t count) {
  actor->get()->attach_functor(
    [&transport, base, count] { transport.remove_endpoint(base, count); });
}

} // namespace grainflow::detail
