#include "grainflow/actors/node.hpp"

#include <algorithm>
#include <thread>

#include "network_execution_unit.hpp"

#include "grainflow/actors/name_registry.hpp"

#include "grainflow/transport/asio_network.hpp"

namespace grainflow {

node::node(caf::actor_system_config& actor_config, transport_config transport,
           transport_providers providers)
    : network_(providers.network)
    , transport_(std::move(transport), std::move(providers))
    , system_(actor_config) {
  if (network_) {
    network_unit_ = std::make_shared<detail::network_execution_unit>(
        system_, network_->loop(), detail::network_execution_unit::limits{});
    network_unit_->attach();
  }
}

transport_config to_transport_config(const node_config& config) {
  transport_config transport;
  transport.local_address = config.listen;
  transport.max_packet_size = config.max_packet_size;
  transport.replay_buffer_bytes = config.replay_buffer_bytes;
  transport.request_window_bytes = config.request_window_bytes;
  transport.ping_interval = config.ping_interval;
  transport.connection_timeout = config.connection_timeout;
  transport.reconnect_min = config.reconnect_min;
  transport.reconnect_max = config.reconnect_max;
  transport.resume_window = config.resume_window;
  transport.use_shared_memory = !config.force_tcp;
  return transport;
}

result<std::unique_ptr<node>> node::create(const node_config& config,
                                           caf::actor_system_config& actor_config) {
  if (auto valid = validate(config); !valid)
    return valid.error();
  // 0 keeps CAF's default: one worker per hardware thread.
  if (config.scheduler_threads != 0)
    actor_config.set("scheduler.max-threads", config.scheduler_threads);
  auto created = create_networked(actor_config, to_transport_config(config));
  if (!created)
    return created.error();
  auto names = name_registry::start(created.value()->transport(), config.seeds);
  if (!names)
    return names.error();
  created.value()->names_ = std::move(names).value();
  return created;
}

void node::tune_scheduler_for_network(caf::actor_system_config& actor_config) {
  // Keep the short busy-poll (it catches back-to-back work between actors of
  // this process); skip the moderate phase's sleep-polling.
  actor_config.set("work-stealing.moderate-poll-attempts", std::size_t{0});
  // The network thread is busy whenever the actors are: leave it a core
  // (n - 1 workers, at least one) unless the application chose a count. On
  // two cores this took the remote depth-64 benchmark from ~285k to ~319k
  // requests/s and made it steadier; more workers than cores only add
  // wake-ups between them.
  if (caf::get_if(&caf::content(actor_config), "scheduler.max-threads") == nullptr) {
    auto cores = std::max(1u, std::thread::hardware_concurrency());
    actor_config.set("scheduler.max-threads", std::size_t{cores > 1 ? cores - 1 : 1});
  }
}

result<std::unique_ptr<node>> node::create_networked(caf::actor_system_config& actor_config,
                                                     transport_config transport) {
  tune_scheduler_for_network(actor_config);
  auto made = asio_network::create();
  if (!made)
    return made.error();
  std::shared_ptr<asio_network> network{std::move(made).value()};
  if (auto started = network->start(); !started)
    return started.error();
  auto out = std::make_unique<node>(actor_config, std::move(transport),
                                    transport_providers{{}, {}, network});
  if (auto listening = out->transport_.start_network(); !listening)
    return listening.error();
  return out;
}

node::~node() {
  // Orderly: the served actors stop first while the network still runs, so
  // the promises they answer or break on the way out reach remote callers
  // (broken_promise, not a timeout); then the connections close.
  transport_.stop_serving();
  system_.await_all_actors_done();
  if (network_unit_)
    network_unit_->detach();
  transport_.close();
}

} // namespace grainflow
