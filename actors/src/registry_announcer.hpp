#pragma once

// Internal to grainflow::actors: how a node's name registry tells the seeds.

#include "grainflow/actors/registry_messages.hpp"
#include "grainflow/actors/reply_future.hpp"
#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/flow_transport.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace grainflow::detail {

/// The name registry's endpoint on the node at `address`.
inline endpoint registry_endpoint(const network_address& address) {
  return endpoint{address, well_known_token(well_known::name_registry)};
}

/// Sends `request` to the name registry of the node at `address`, reliably
/// (get_reply, not send(): an unreliable packet to a node this one is not
/// connected to yet is dropped before the connection is up).
reply_future<registry_answer>
ask_registry(flow_transport& transport, const network_address& address, registry_request request);

/// Carries a node's registrations and removals to the seed nodes, as a
/// service registry's agent does, so that every seed ends up knowing the
/// node's names however the seeds come and go:
///
/// - Retry: an announcement that fails for the network's sake
///   (connection_failed, request_maybe_delivered, broken_promise, timed_out,
///   or endpoint_not_found: the seed's registry is not up yet) is sent again
///   after a backoff that starts at `first_retry` and doubles up to
///   `max_retry`, for as long as the node's own registry agrees with it
///   (`binds_here` says the name is still, or for a removal no longer, bound
///   to that endpoint). Any other failure (the seed refused the request, the
///   transport closed) ends it. So a seed that was not up when a service
///   registered, or was cut off for longer than the resume window, still
///   learns the name.
/// - Refresh: every `refresh_interval`, each name this node registered and
///   still binds is sent to every seed once more, so a seed that restarted
///   empty learns the names again.
///
/// Sending either request twice changes nothing at a seed. Logging: one
/// warning when a seed's first announcement fails and one when it answers
/// again, not one per retry; refreshes are silent.
///
/// Thread safety: every member may be called from any thread. Answers,
/// retries and refreshes run on the network thread; the object lives as
/// long as its owner holds it, and timers left after stop() do nothing.
class registry_announcer : public std::enable_shared_from_this<registry_announcer> {
public:
  static constexpr duration first_retry = std::chrono::milliseconds{100};
  static constexpr duration max_retry = std::chrono::seconds{5};

  /// Whether this node's own registry binds a name to an endpoint now.
  using binding_check = std::function<bool(const std::string& name, const endpoint& target)>;

  /// `transport` must outlive every holder of the announcer.
  registry_announcer(flow_transport& transport, std::vector<network_address> seeds,
                     binding_check binds_here, duration refresh_interval);

  /// Arms the refresh (not in the constructor: its timer holds a weak
  /// reference to this object).
  void start();

  /// Tells every seed that `name` is now bound to `target` (`op`
  /// register_name) or no longer (unregister_name; the seeds remove it only
  /// while it is bound to `target`).
  void announce(registry_op op, const std::string& name, const endpoint& target);

  /// Ends the refresh and every retry that is waiting; later answers do not
  /// retry.
  void stop() noexcept;

private:
  struct attempt {
    network_address seed;
    registry_request request;
    duration next_backoff = first_retry;
    bool failed_before = false;
    /// The retry timer waiting to send it again (under mtx_).
    timer_id timer = timer_id::invalid;
  };

  /// Whether the node's own registry still agrees with `request`.
  bool still_wanted(const registry_request& request) const;
  void send(std::shared_ptr<attempt> pending);
  void on_answer(const std::shared_ptr<attempt>& pending, const result<registry_answer>& answer);
  void retry_later(std::shared_ptr<attempt> pending);
  /// Books a failing (`failing` true) or recovered announcement to `seed`;
  /// returns whether the seed changed between answering and not.
  bool note_seed(const network_address& seed, bool failing);
  void refresh();
  /// Under mtx_.
  void arm_refresh();

  flow_transport& transport_;
  const std::vector<network_address> seeds_;
  const binding_check binds_here_;
  const duration refresh_interval_;
  std::mutex mtx_;
  bool stopped_ = false;
  /// What this node registered, as last announced: refreshed while bound.
  std::unordered_map<std::string, endpoint> registered_;
  /// Announcements per seed that failed and are being retried.
  std::unordered_map<network_address, std::size_t> failing_;
  /// Retries waiting on the network loop's timers.
  std::vector<timer_id> retry_timers_;
  timer_id refresh_timer_ = timer_id::invalid;
};

} // namespace grainflow::detail
