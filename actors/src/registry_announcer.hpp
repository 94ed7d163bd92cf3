#pragma once

// Internal to grainflow::actors: how a node's name registry tells the seeds.

#include "grainflow/actors/registry_messages.hpp"
#include "grainflow/transport/flow_transport.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace grainflow::detail {

/// Carries a node's registrations and removals to the seed nodes until each
/// seed has answered, as a service registry's agent does: a seed that was
/// unreachable when a service registered (not started yet, restarting, cut
/// off for longer than the resume window) still learns the name once it can
/// be reached.
///
/// An announcement that fails for the network's sake (connection_failed,
/// request_maybe_delivered, broken_promise, timed_out, or endpoint_not_found:
/// the seed's registry is not up yet) is sent again after a backoff that
/// starts at `first_retry` and doubles up to `max_retry`, for as long as
/// `still_wanted()` says the binding it reports is still this node's.
/// Resending is safe: registering the same binding twice, and a conditional
/// removal, change nothing the second time. Any other failure (the seed
/// refused the request, the transport closed) ends the announcement.
///
/// Logging: one warning when a seed's first announcement fails and one when
/// it answers again, not one per retry.
///
/// Thread safety: every member may be called from any thread. Answers and
/// retries run on the network thread; the object lives as long as its owner
/// holds it, and retries left after that do nothing.
class registry_announcer : public std::enable_shared_from_this<registry_announcer> {
public:
  static constexpr duration first_retry = std::chrono::milliseconds{100};
  static constexpr duration max_retry = std::chrono::seconds{5};

  /// `transport` must outlive every holder of the announcer.
  explicit registry_announcer(flow_transport& transport) noexcept;

  /// Sends `request` to the registry at `seed` (see the class comment).
  void announce(const network_address& seed, registry_request request,
                std::function<bool()> still_wanted);

  /// Ends every retry that is waiting; later answers do not retry.
  void stop() noexcept;

private:
  struct attempt {
    network_address seed;
    registry_request request;
    std::function<bool()> still_wanted;
    duration next_backoff = first_retry;
    bool failed_before = false;
  };

  void send(std::shared_ptr<attempt> pending);
  void on_answer(const std::shared_ptr<attempt>& pending, const result<registry_answer>& answer);
  void retry_later(std::shared_ptr<attempt> pending);
  /// Books a failing (`failing` true) or recovered announcement to `seed`;
  /// returns whether the seed changed between answering and not.
  bool note_seed(const network_address& seed, bool failing);

  flow_transport& transport_;
  std::mutex mtx_;
  bool stopped_ = false;
  /// Announcements per seed that failed and are being retried.
  std::unordered_map<network_address, std::size_t> failing_;
  /// Retries waiting on the network loop's timers.
  std::vector<timer_id> timers_;
};

} // namespace grainflow::detail
