#pragma once

#include "grainflow/transport/flow_transport.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

namespace grainflow {

/// One grainflow process: a CAF actor system and a flow transport, torn
/// down in the order that lets every call resolve.
///
/// Shutdown: the transport closes first — its endpoints go, releasing the
/// actors they kept alive, and calls waiting on serialized replies fail with
/// transport_closed — then the actor system waits for its actors (whose
/// dropped promises break), and only then is the transport destroyed, so a
/// promise dropped during shutdown still finds it.
class node {
public:
  explicit node(caf::actor_system_config& actor_config, transport_config transport = {},
                transport_providers providers = {});
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  caf::actor_system& system() noexcept {
    return system_;
  }
  flow_transport& transport() noexcept {
    return transport_;
  }

private:
  // Declaration order is destruction order, reversed: the system goes first.
  flow_transport transport_;
  caf::actor_system system_;
};

} // namespace grainflow
