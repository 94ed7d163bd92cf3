#include "grainflow/actors/node.hpp"

namespace grainflow {

node::node(caf::actor_system_config& actor_config, transport_config transport,
           transport_providers providers)
  : transport_(std::move(transport), std::move(providers)), system_(actor_config) {
}

node::~node() {
  transport_.close();
}

} // namespace grainflow
