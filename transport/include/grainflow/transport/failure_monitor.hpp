#pragma once

#include "grainflow/endpoints/endpoint.hpp"
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

namespace detail {
struct watched_peer;
} // namespace detail

/// What the failure monitor tells a waiting call. Implemented by the actors
/// layer's reply states.
///
/// The monitor links a tracked call into its peer's list through the fields
/// below (guarded by the monitor's mutex), so tracking a call allocates
/// nothing and forgetting it looks nothing up. While the call is tracked the
/// monitor holds a reference to it, through keep() and release().
class call_watcher {
public:
  /// The call cannot be answered any more, for `reason`. Any thread; must
  /// not block. Called with no lock of the monitor held.
  virtual void on_call_failed(std::error_code reason) noexcept = 0;

  /// Adds a reference that keeps this watcher alive; any thread.
  virtual void keep() noexcept = 0;
  /// Drops a reference keep() added; may destroy this watcher. Any thread.
  virtual void release() noexcept = 0;

protected:
  call_watcher() = default;
  ~call_watcher() = default;
  call_watcher(const call_watcher&) = delete;
  call_watcher& operator=(const call_watcher&) = delete;

private:
  friend class failure_monitor;

  // -- the monitor's, under its mutex ---------------------------------------
  call_watcher* prev_ = nullptr;
  call_watcher* next_ = nullptr;
  /// The peer list this call is in; null while not tracked.
  detail::watched_peer* tracked_in_ = nullptr;
  uid destination_token_;
  call_mode mode_ = call_mode::resume;
  // The peer's connection count when the call was made, and whether it was
  // connected then: tells "maybe delivered" from "never left".
  std::uint64_t epoch_ = 0;
  bool connected_ = false;
};

namespace detail {

/// The calls waiting on one peer, as the failure monitor keeps them: a
/// doubly linked list through the watchers. Guarded by the monitor's mutex.
struct watched_peer {
  std::uint64_t epoch = 0;
  bool connected = false;
  call_watcher* head = nullptr;
  std::size_t count = 0;
};

} // namespace detail

/// Knows which calls wait on which remote process, and fails them — each
/// with its own error — when that process disconnects, vanishes, restarts,
/// or says their endpoint does not exist. Every caller learns the outcome:
/// nothing here waits for a timeout.
///
/// Thread safety: every member may be called from any thread. Watchers are
/// called with no lock held.
class failure_monitor {
public:
  failure_monitor() = default;
  ~failure_monitor();
  failure_monitor(const failure_monitor&) = delete;
  failure_monitor& operator=(const failure_monitor&) = delete;

  // -- calls ------------------------------------------------------------------

  /// Registers a call sent to `destination`; the monitor keeps `watcher`
  /// alive until the call is untracked or failed. @pre `watcher` is not
  /// tracked.
  void track(const endpoint& destination, call_mode mode, call_watcher& watcher);

  /// The call resolved; forget it. Does nothing when it is not tracked (the
  /// monitor failed it already, or it never was).
  void untrack(call_watcher& watcher) noexcept;

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
  using failure_list = std::vector<std::pair<call_watcher*, std::error_code>>;

  static void link(detail::watched_peer& peer, call_watcher& call) noexcept;
  static void unlink(call_watcher& call) noexcept;

  /// Fails, with the reason `verdict(watched_peer, call)` gives, each call of
  /// `peer` for which that reason is non-empty; marks the peer disconnected
  /// first if asked.
  template <class Verdict>
  void fail_matching(const network_address& peer, bool disconnected, Verdict verdict);

  /// Tells each watcher its reason, then drops the monitor's reference.
  static void notify(failure_list& failures) noexcept;

  mutable adaptive_mutex mtx_;
  // Node-based: an entry keeps its address while calls point at it, and
  // entries are erased only with every call unlinked (fail_all).
  std::unordered_map<network_address, detail::watched_peer> peers_;
};

} // namespace grainflow
