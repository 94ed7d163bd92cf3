#include "workload_support.hpp"

namespace grainflow::sim::workloads {

namespace {

using namespace std::chrono_literals;

} // namespace

transport_config sim_transport_config(simulation& sim) {
  auto& bug = sim.bug();
  auto& random = sim.random();
  transport_config config;
  config.resume_window = 10s;
  if (bug.fires("transport.small_replay_buffer", 0.5))
    config.replay_buffer_bytes = 256 * 1024 + random.below(256 * 1024);
  if (bug.fires("transport.odd_ticks", 0.5))
    config.tick_interval = random.log_between(5ms, 200ms);
  if (bug.fires("transport.eager_liveness", 0.5)) {
    config.ping_interval = random.log_between(100ms, 500ms);
    config.connection_timeout = config.ping_interval * 2 + random.log_between(10ms, 500ms);
  }
  config.serialize_local_delivery = bug.fires("transport.serialize_local", 0.5);
  return config;
}

} // namespace grainflow::sim::workloads
