#pragma once

#include "grainflow/actors/node_config.hpp"
#include "grainflow/transport/flow_transport.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <memory>

namespace grainflow {

class name_registry;
namespace detail {
class network_execution_unit;
} // namespace detail

/// The transport settings a node config asks for.
transport_config to_transport_config(const node_config& config);

/// One grainflow process: a CAF actor system and a flow transport, torn
/// down in the order that lets every call resolve.
///
/// Shutdown, in order: the transport stops serving (its endpoints go and the
/// actors that served them stop), the actor system waits for every actor —
/// the answers and broken promises they leave still travel, since the network
/// runs — then the transport closes (queued packets are written, waiting
/// calls fail with transport_closed) and the network thread stops. Actors the
/// user keeps alive elsewhere must have ended by then: the node waits for them.
class node {
public:
  /// A node of this process only (no network), or on the given providers.
  explicit node(caf::actor_system_config& actor_config, transport_config transport = {},
                transport_providers providers = {});

  /// A node that talks to other processes: TCP on standalone Asio with its
  /// own network thread, listening at `transport.local_address` (port 0: an
  /// ephemeral port; address() tells which).
  [[nodiscard]] static result<std::unique_ptr<node>>
  create_networked(caf::actor_system_config& actor_config, transport_config transport = {});

  /// A cluster node from its config (a TOML file and flags, see
  /// node_config.hpp): networked, listening at `config.listen`, with CAF's
  /// scheduler threads as configured, and serving the name registry, whose
  /// seeds are `config.seeds`.
  [[nodiscard]] static result<std::unique_ptr<node>> create(const node_config& config,
                                                            caf::actor_system_config& actor_config);

  /// Sets CAF's work-stealing scheduler so that an idle worker sleeps on its
  /// condition variable — woken at once by a message from the network thread
  /// — instead of polling in 50 µs sleeps, each of which adds that much (plus
  /// timer slack) to every remote call. create_networked() applies it.
  static void tune_scheduler_for_network(caf::actor_system_config& actor_config);

  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  caf::actor_system& system() noexcept { return system_; }
  flow_transport& transport() noexcept { return transport_; }
  /// The node's name registry; null for a node made without one.
  name_registry* names() noexcept { return names_.get(); }

  /// Where other processes reach this node.
  const network_address& address() const noexcept { return transport_.local_address(); }

private:
  // Declaration order is destruction order, reversed: the system goes first,
  // the network (its thread) last.
  std::shared_ptr<network_provider> network_;
  flow_transport transport_;
  caf::actor_system system_;
  // Runs, on the network thread, the actors its deliveries wake.
  std::shared_ptr<detail::network_execution_unit> network_unit_;
  std::unique_ptr<name_registry> names_;
};

} // namespace grainflow
