#pragma once

#include "grainflow/actors/call_options.hpp"
#include "grainflow/actors/interface.hpp"
#include "grainflow/actors/reply_future.hpp"
#include "grainflow/endpoints/endpoint.hpp"
#include "grainflow/endpoints/result.hpp"
#include "grainflow/transport/flow_transport.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace grainflow {

/// Names for endpoints across a cluster, served by every node at the
/// well-known token `well_known::name_registry` (wire: docs/protocol.md,
/// "Name registry"; messages: registry_messages.hpp).
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
/// Names are 1..128 bytes of printable ASCII (0x20..0x7E); anything else is
/// refused with std::errc::invalid_argument.
///
/// Every node whose endpoints are registered should run a registry: a lookup
/// checks a binding it got second-hand with the target's own node (see
/// lookup()).
///
/// Thread safety: every member may be called from any thread, except that
/// lookup() blocks and must not run on the network thread (inside a
/// message_receiver).
class name_registry {
public:
  /// How long lookup() waits for each registry (and each check of a target's
  /// node) when the caller gives no deadline.
  static constexpr duration default_call_timeout = std::chrono::seconds{2};
  /// How often a node sends the names it registered to every seed again, so
  /// that a seed that restarted empty learns them back.
  static constexpr duration default_refresh_interval = std::chrono::seconds{10};

  // -- construction -----------------------------------------------------------

  /// Serves this node's registry on `transport` (which must outlive it) and
  /// remembers `seeds` for announcements and lookups (this node's own
  /// address among them is skipped, as are repeats). Every
  /// `refresh_interval`, the names registered through this object and still
  /// bound here are sent to every seed again. Fails when the well-known
  /// token is taken (a second registry on one transport:
  /// std::errc::address_in_use), the transport is closed, or
  /// `refresh_interval` is not positive (std::errc::invalid_argument).
  [[nodiscard]] static result<std::unique_ptr<name_registry>>
  start(flow_transport& transport, std::vector<network_address> seeds,
        duration refresh_interval = default_refresh_interval);

  /// Stops serving: this node's registry and the names it held are gone,
  /// and so are its retries and refreshes (seeds keep their names until a
  /// lookup finds them stale).
  ~name_registry();
  name_registry(const name_registry&) = delete;
  name_registry& operator=(const name_registry&) = delete;

  // -- properties -------------------------------------------------------------

  /// Whether `name` may be registered: 1..128 bytes of printable ASCII.
  static bool valid_name(std::string_view name) noexcept;

  /// The names this node's registry holds right now, sorted: the ones
  /// registered here and, on a seed, the ones announced to it. Empty once
  /// the transport closed.
  std::vector<std::string> names() const;

  // -- operations -------------------------------------------------------------

  /// Registers `target` under `name` on this node and announces it to every
  /// seed. The future resolves when this node's own registry has it: true
  /// when the name was new here, false when it replaced an earlier binding.
  /// It fails with std::errc::invalid_argument (a bad name, an invalid
  /// target), endpoint_not_found (a target of this node that no longer
  /// exists) or transport_closed.
  ///
  /// Announcements: to each seed, reliably (the delivery of get_reply:
  /// exactly once while both processes live, replayed across reconnects) and
  /// not waited for. A seed that cannot be reached (not started yet,
  /// restarting, cut off for longer than the transport's resume window) is
  /// asked again after 100 ms, then after twice as long each time up to 5 s,
  /// until it answers — as long as this node still binds the name to the
  /// same endpoint. The first failure per seed is logged ("retrying until
  /// it answers"), and so is the seed's return ("answers again"). A seed
  /// that restarted empty learns the name back at the next refresh (see
  /// start()). A seed has the name shortly after the future resolves, not
  /// necessarily before.
  /// Never blocks on the network except for the transport's backpressure.
  [[nodiscard]] reply_future<bool> register_name(const std::string& name, const endpoint& target);

  /// Removes this node's binding of `name` and announces the removal to every
  /// seed (retried as register_name's announcements are, while the name is
  /// not bound here to that endpoint again), where it removes the name only
  /// while it is still bound to the same endpoint (a newer registration
  /// elsewhere survives). The future
  /// resolves when this node's registry is done: true when a binding was
  /// removed, false when there was none. Fails as register_name does.
  [[nodiscard]] reply_future<bool> unregister_name(const std::string& name);

  /// Finds `name`: this node's registry, then each seed in order; the first
  /// that knows it, with an endpoint that still exists, answers. Each
  /// registry is asked with try_get_reply (a dropped connection moves on to
  /// the next at once) until `options.deadline`, or for
  /// default_call_timeout each when none is given; one that fails or does
  /// not answer in time is skipped.
  ///
  /// A binding whose endpoint lives on another node than the registry that
  /// answered is checked with that node's registry first (one more round
  /// trip): when it says the endpoint is gone, the answering registry is told
  /// to drop the name and the walk goes on; when it cannot be asked (down,
  /// slow, no registry), the binding is skipped but kept.
  ///
  /// Fails with endpoint_not_found when no registry knows a live binding,
  /// timed_out when `options.deadline` passes first, invalid_argument for a
  /// bad name, transport_closed. Blocks the calling thread.
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

private:
  name_registry(flow_transport& transport, std::vector<network_address> seeds,
                duration refresh_interval);
  class impl;

  flow_transport& transport_;
  std::unique_ptr<impl> impl_;
};

} // namespace grainflow
