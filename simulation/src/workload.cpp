#include "grainflow/simulation/workload.hpp"

namespace grainflow::sim {

workload::~workload() = default;

chaos_options workload::chaos(simulation&) const {
  return {};
}

} // namespace grainflow::sim
