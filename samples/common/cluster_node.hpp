#pragma once

// What every cluster sample does before its own work: turn a node_config
// (flags and TOML) into a networked node with a name registry, wait for a
// stop signal, and print the transport's per-peer metrics.

#include "grainflow/actors/name_registry.hpp"
#include "grainflow/actors/node.hpp"
#include "grainflow/actors/node_config.hpp"

#include <caf/actor_system_config.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace grainflow::samples {

/// A networked node and its name registry. Members are destroyed in reverse
/// order: the registry first, because it uses the node's transport.
struct cluster_node {
  std::unique_ptr<grainflow::node> node;
  /// The node's own registry (owned by the node).
  grainflow::name_registry* names = nullptr;
};

/// Blocks SIGINT and SIGTERM in the calling thread. Call it first in main(),
/// before any thread starts, so that every thread inherits the mask and
/// wait_for_stop_signal() is the only place that sees the signal.
void block_stop_signals();

/// Waits until SIGINT or SIGTERM arrives (after block_stop_signals()).
/// Returns the signal's number.
int wait_for_stop_signal();

/// Maps `config` onto the transport's settings and CAF's scheduler, starts a
/// networked node listening at `config.listen`, and starts its name registry
/// with `config.seeds`.
[[nodiscard]] result<cluster_node> make_node(const node_config& config,
                                             caf::actor_system_config& actor_config);

/// Prints one line per peer with every field of peer_stats.
void print_stats(const flow_transport& transport);

/// Parses the command line with the node's flags plus the program's own
/// (`options.extra`). On error prints why and returns nullopt with
/// `exit_code` set: 0 after --help, 2 for a bad flag.
[[nodiscard]] std::optional<node_config> parse_args(int argc, const char* const* argv,
                                                    node_config base,
                                                    const node_args_options& options,
                                                    int& exit_code);

/// Looks `name` up through the node's registry and its seeds, retrying for
/// up to `patience`: a service announces its name to the seeds without
/// waiting, so right after it started a seed may not know it yet.
template <interface_type I>
[[nodiscard]] result<I>
find_interface(name_registry& names, const std::string& name,
               std::chrono::milliseconds patience = std::chrono::seconds{10}) {
  auto give_up = std::chrono::steady_clock::now() + patience;
  for (;;) {
    auto found = names.lookup_interface<I>(name, call_options::within(std::chrono::seconds{1}));
    if (found || std::chrono::steady_clock::now() >= give_up)
      return found;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
}

} // namespace grainflow::samples
