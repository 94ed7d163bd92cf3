#pragma once

#include "grainflow/actors/call_options.hpp"
#include "grainflow/actors/interface.hpp"
#include "grainflow/actors/reply_future.hpp"
#include "grainflow/endpoints/endpoint.hpp"
#include "grainflow/endpoints/result.hpp"
#include "grainflow/transport/flow_transport.hpp"

#include <memory>
#include <string>
#include <vector>

namespace grainflow {

/// Names for endpoints across a cluster, served by every node at the
/// well-known token `well_known::name_registry`.
///
/// A service registers an endpoint (a stream, or an interface's base) under a
/// name on its own node; the registration is also announced to the seed
/// nodes. A client anywhere finds a name through its own node first, then
/// through the seeds, in order. A name belongs to one endpoint at a time: the
/// latest registration wins (a restarted service re-registers). When the
/// registering node's transport closes, its names are withdrawn from its own
/// registry; seeds drop a name when a lookup through them finds its endpoint
/// gone (endpoint_not_found).
///
/// Thread safety: every member may be called from any thread.
class name_registry {
public:
  /// Serves this node's registry on `transport` (which must outlive it) and
  /// remembers `seeds` for announcements and lookups. Fails when the
  /// well-known token is taken (a second registry on one transport).
  [[nodiscard]] static result<std::unique_ptr<name_registry>>
  start(flow_transport& transport, std::vector<network_address> seeds);

  ~name_registry();
  name_registry(const name_registry&) = delete;
  name_registry& operator=(const name_registry&) = delete;

  /// Registers `target` under `name` on this node and announces it to every
  /// seed (at most once each, fire and forget: a seed that is down learns it
  /// on the next registration). The future resolves when this node's own
  /// registry has it.
  [[nodiscard]] reply_future<bool> register_name(const std::string& name, const endpoint& target);

  /// Finds `name`: this node's registry, then each seed in order; the first
  /// that knows it answers. Fails with endpoint_not_found when none does, or
  /// timed_out at the deadline.
  [[nodiscard]] result<endpoint> lookup(const std::string& name, call_options options = {});

  /// lookup() for an interface: a working client copy bound to this node's
  /// transport.
  template <interface_type I>
  [[nodiscard]] result<I> lookup_interface(const std::string& name, call_options options = {}) {
    auto base = lookup(name, options);
    if (!base)
      return base.error();
    return interface_at<I>(transport_, base.value());
  }

  /// The names this node's registry holds right now.
  std::vector<std::string> names() const;

private:
  explicit name_registry(flow_transport& transport, std::vector<network_address> seeds);
  class impl;

  flow_transport& transport_;
  std::unique_ptr<impl> impl_;
};

} // namespace grainflow
