#include "grainflow/simulation/sim_network.hpp"

#include "network/fabric.hpp"

namespace grainflow::sim {

sim_network::sim_network(sim_scheduler& scheduler, sim_random& random, buggify& bug, trace& log,
                         network_options options)
    : fabric_(std::make_unique<detail::fabric>(scheduler, random, bug, log, options)) {}

sim_network::~sim_network() = default;

network_address sim_network::address_of(process_id id, std::uint16_t port) noexcept {
  const auto index = id + 1;
  return network_address::ipv4(
      {10, 0, static_cast<std::uint8_t>(index >> 8), static_cast<std::uint8_t>(index & 0xff)},
      port);
}

const network_stats& sim_network::stats() const noexcept {
  return fabric_->stats;
}

std::size_t sim_network::open_connections() const noexcept {
  return fabric_->open_connections();
}

std::uint64_t sim_network::last_life_reached(process_id from, process_id to) const {
  return fabric_->last_life_reached(from, to);
}

std::shared_ptr<network_provider> sim_network::attach(process_id id, sim_executor& loop,
                                                      const sim_clock& clock) {
  return fabric_->attach(id, loop, clock);
}

void sim_network::detach(process_id id, kill_mode how) {
  fabric_->detach(id, how);
}

void sim_network::clog_pair(process_id a, process_id b, duration how_long) {
  fabric_->clog_pair(a, b, how_long);
}

void sim_network::clog_machine(process_id a, duration how_long) {
  fabric_->clog_machine(a, how_long);
}

void sim_network::partition(process_id a, process_id b, duration how_long) {
  fabric_->partition(a, b, how_long);
}

void sim_network::heal() noexcept {
  fabric_->heal();
}

bool sim_network::sever_random(sever_mode how) {
  return fabric_->sever_random(how);
}

} // namespace grainflow::sim
