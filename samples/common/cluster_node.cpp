#include "cluster_node.hpp"

#include <caf/actor_system_config.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>

namespace grainflow::samples {

namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

} // namespace

void block_stop_signals() {
  auto set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_stop_signal() {
  auto set = stop_signals();
  int signal = 0;
  sigwait(&set, &signal);
  return signal;
}

result<cluster_node> make_node(const node_config& config, caf::actor_system_config& actor_config) {
  transport_config transport;
  transport.local_address = config.listen;
  transport.max_packet_size = config.max_packet_size;
  transport.replay_buffer_bytes = config.replay_buffer_bytes;
  transport.ping_interval = config.ping_interval;
  transport.connection_timeout = config.connection_timeout;
  transport.reconnect_min = config.reconnect_min;
  transport.reconnect_max = config.reconnect_max;
  transport.resume_window = config.resume_window;
  // 0 keeps CAF's default, one worker per hardware thread.
  if (config.scheduler_threads != 0)
    actor_config.set("scheduler.max-threads", config.scheduler_threads);
  auto created = node::create_networked(actor_config, transport);
  if (!created)
    return created.error();
  cluster_node result_node;
  result_node.node = std::move(created).value();
  auto names = name_registry::start(result_node.node->transport(), config.seeds);
  if (!names)
    return names.error();
  result_node.names = std::move(names).value();
  return result_node;
}

void print_stats(const flow_transport& transport) {
  auto peers = transport.peers();
  std::printf("peer metrics of %s: %zu peer(s)\n", transport.local_address().to_string().c_str(),
              peers.size());
  for (const auto& p : peers)
    std::printf("  %-21s %s  sent %llu B / %llu pkts  received %llu B / %llu pkts  "
                "in flight %llu  retransmits %llu  reconnects %llu  protocol errors %llu  "
                "ping %lld us\n",
                p.address.to_string().c_str(), p.connected ? "connected   " : "disconnected",
                static_cast<unsigned long long>(p.bytes_sent),
                static_cast<unsigned long long>(p.packets_sent),
                static_cast<unsigned long long>(p.bytes_received),
                static_cast<unsigned long long>(p.packets_received),
                static_cast<unsigned long long>(p.reliable_in_flight),
                static_cast<unsigned long long>(p.retransmits),
                static_cast<unsigned long long>(p.reconnects),
                static_cast<unsigned long long>(p.protocol_errors),
                static_cast<long long>(p.ping_round_trip.count()));
  std::fflush(stdout);
}

std::optional<node_config> parse_args(int argc, const char* const* argv, node_config base,
                                      const node_args_options& options, int& exit_code) {
  std::string why;
  auto config = parse_node_args(argc, argv, std::move(base), options, &why);
  if (config)
    return std::move(config).value();
  exit_code = config.error() == help_printed ? 0 : 2;
  if (exit_code != 0)
    std::cerr << argv[0] << ": " << why << '\n';
  return std::nullopt;
}

} // namespace grainflow::samples
