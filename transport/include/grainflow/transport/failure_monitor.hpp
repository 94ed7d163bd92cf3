#pragma once

#include "grainflow/endpoints/endpoint.hpp"
#include "grainflow/endpoints/intrusive_ptr.hpp"
#include "grainflow/endpoints/ref_counted.hpp"
#include "grainflow/endpoints/uid.hpp"

#include <cstdint>
#include <mutex>

#include "grainflow/endpoints/adaptive_mutex.hpp"
#include <system_error>
#include <unordered_map>
#include <vector>

namespace grainflow {

/// How a call reacts to its connection dropping.
enum class call_mode : std::uint8_t {
  /// get_reply: wait for the session to resume; fail only when the peer is
  /// gone for good (resume window expired, restarted).
  resume,
  /// try_get_reply: fail at once with request_maybe_delivered.
  fail_fast,
};

/// What the failure monitor tells a waiting call. Implemented by the actors
/// layer's reply states.
class call_watcher : public ref_counted {
public:
  ~call_watcher() override;
  /// The call cannot be answered any more, for `reason`. Any thread; must
  /// not block.
  virtual void on_call_failed(std::error_code reason) noexcept = 0;
};

/// Knows which calls wait on which remote process, and fails them — each
/// with its own error — when that process disconnects, vanishes, restarts,
/// or says their endpoint does not exist. Every caller learns the outcome:
/// nothing here waits for a timeout.
///
/// Thread safety: every member may be called from any thread. Watchers are
/// called with no lock held.
class failure_monitor {
public:
  // -- calls ------------------------------------------------------------------

  /// Registers a call sent to `destination`, answered at `reply_token`.
  void track(const endpoint& destination, const uid& reply_token, call_mode mode,
             intrusive_ptr<call_watcher> watcher);

  /// The call resolved; forget it.
  void untrack(const network_address& peer, const uid& reply_token) noexcept;

  /// Calls tracked for `peer` right now.
  std::size_t tracked(const network_address& peer) const;

  // -- what happened to a peer ------------------------------------------------

  /// A connection to `peer` completed its handshake.
  void on_connected(const network_address& peer);

  /// The connection to `peer` dropped: fail_fast calls fail with
  /// request_maybe_delivered; resume calls keep waiting.
  void on_disconnected(const network_address& peer);

  /// `peer` is gone for good (its session was abandoned, it restarted, or
  /// this transport closes): every call fails — request_maybe_delivered if
  /// the peer was connected at some point since the call was made, else
  /// `never_sent` (connection_failed for an unreachable peer).
  void on_peer_lost(const network_address& peer, std::error_code never_sent);

  /// The session with `peer` was lost (it restarted, or one side gave the
  /// session up) while its process may live on: calls whose request may have
  /// reached it fail with request_maybe_delivered; calls whose request never
  /// left keep waiting — their packets go out on the next session.
  void on_session_lost(const network_address& peer);

  /// `peer` reported that `token` does not exist there: calls to it fail
  /// with endpoint_not_found.
  void on_endpoint_not_found(const network_address& peer, const uid& token);

  /// Fails every call of every peer with `reason` (shutdown).
  void fail_all(std::error_code reason);

private:
  struct tracked_call {
    uid destination_token;
    call_mode mode = call_mode::resume;
    // The peer's connection count when the call was made, and whether it was
    // connected then: tells "maybe delivered" from "never left".
    std::uint64_t epoch = 0;
    bool connected = false;
    intrusive_ptr<call_watcher> watcher;
  };

  struct peer_calls {
    std::uint64_t epoch = 0;
    bool connected = false;
    std::unordered_map<uid, tracked_call> calls;
  };

  using failure_list = std::vector<std::pair<intrusive_ptr<call_watcher>, std::error_code>>;

  /// Fails, with the reason `verdict(peer_calls, call)` gives, each call of
  /// `peer` for which that reason is non-empty; marks the peer disconnected
  /// first if asked.
  template <class Verdict>
  void fail_matching(const network_address& peer, bool disconnected, Verdict verdict);

  static void notify(failure_list& failures) noexcept;

  mutable adaptive_mutex mtx_;
  std::unordered_map<network_address, peer_calls> peers_;
};

} // namespace grainflow
