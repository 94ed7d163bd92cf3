// Out-of-line destructors anchor the vtables of the provider interfaces in one
// translation unit.

#include "grainflow/transport/network_provider.hpp"
#include "grainflow/transport/executor.hpp"

namespace grainflow {

executor::~executor() = default;
connection::~connection() = default;
listener::~listener() = default;
network_provider::~network_provider() = default;

} // namespace grainflow
