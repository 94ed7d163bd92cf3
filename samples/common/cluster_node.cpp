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
  auto created = node::create(config, actor_config);
  if (!created)
    return created.error();
  cluster_node out;
  out.node = std::move(created).value();
  out.names = out.node->names();
  return out;
}

void print_stats(const flow_transport& transport) {
  auto peers = transport.peers();
  std::printf("peer metrics of %s: %zu peer(s)\n", transport.local_address().to_string().c_str(),
              peers.size());
  for (const auto& p : peers)
    std::printf("  %-21s %s  sent %llu B / %llu pkts  received %llu B / %llu pkts  "
                "in flight %llu  retransmits %llu  reconnects %llu  protocol errors %llu  "
                "ping %lld us  requests held %llu (stalls %llu)  backlog %llu B\n",
                p.address.to_string().c_str(), p.connected ? "connected   " : "disconnected",
                static_cast<unsigned long long>(p.bytes_sent),
                static_cast<unsigned long long>(p.packets_sent),
                static_cast<unsigned long long>(p.bytes_received),
                static_cast<unsigned long long>(p.packets_received),
                static_cast<unsigned long long>(p.reliable_in_flight),
                static_cast<unsigned long long>(p.retransmits),
                static_cast<unsigned long long>(p.reconnects),
                static_cast<unsigned long long>(p.protocol_errors),
                static_cast<long long>(p.ping_round_trip.count()),
                static_cast<unsigned long long>(p.requests_held),
                static_cast<unsigned long long>(p.window_stalls),
                static_cast<unsigned long long>(p.inbound_backlog_bytes));
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
