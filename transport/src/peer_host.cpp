#include "grainflow/transport/peer_host.hpp"

namespace grainflow {

peer_host::~peer_host() = default;

} // namespace grainflow
