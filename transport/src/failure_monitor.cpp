#include "grainflow/transport/failure_monitor.hpp"

#include "grainflow/endpoints/error.hpp"

#include <cassert>

namespace grainflow {

failure_monitor::~failure_monitor() {
  // Calls still tracked keep their reference until here: the transport
  // failed them all on close, so this is only what tracking outlived it.
  for (auto& [address, peer] : peers_)
    while (peer.head != nullptr) {
      auto* call = peer.head;
      unlink(*call);
      call->release();
    }
}

void failure_monitor::link(detail::watched_peer& peer, call_watcher& call) noexcept {
  call.tracked_in_ = &peer;
  call.prev_ = nullptr;
  call.next_ = peer.head;
  if (peer.head != nullptr)
    peer.head->prev_ = &call;
  peer.head = &call;
  ++peer.count;
}

void failure_monitor::unlink(call_watcher& call) noexcept {
  auto& peer = *call.tracked_in_;
  if (call.prev_ != nullptr)
    call.prev_->next_ = call.next_;
  else
    peer.head = call.next_;
  if (call.next_ != nullptr)
    call.next_->prev_ = call.prev_;
  call.prev_ = call.next_ = nullptr;
  call.tracked_in_ = nullptr;
  --peer.count;
}

void failure_monitor::track(const endpoint& destination, call_mode mode, call_watcher& watcher) {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  assert(watcher.tracked_in_ == nullptr && "a call is tracked once");
  auto& peer = peers_[destination.address]; // the only step that may throw
  watcher.keep();
  watcher.destination_token_ = destination.token;
  watcher.mode_ = mode;
  watcher.epoch_ = peer.epoch;
  watcher.connected_ = peer.connected;
  link(peer, watcher);
}

void failure_monitor::untrack(call_watcher& watcher) noexcept {
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    if (watcher.tracked_in_ == nullptr)
      return; // failed by the monitor already, or never tracked
    unlink(watcher);
  }
  // Released after unlocking: a watcher's destructor may call back in.
  watcher.release();
}

std::size_t failure_monitor::tracked(const network_address& peer) const {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto found = peers_.find(peer);
  return found == peers_.end() ? 0 : found->second.count;
}

void failure_monitor::on_connected(const network_address& peer) {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto& state = peers_[peer];
  ++state.epoch;
  state.connected = true;
}

void failure_monitor::on_disconnected(const network_address& peer) {
  fail_matching(
      peer, /*disconnected=*/true, [](const detail::watched_peer&, const call_watcher& call) {
        return call.mode_ == call_mode::fail_fast ? make_error_code(error::request_maybe_delivered)
                                                  : std::error_code{};
      });
}

void failure_monitor::on_peer_lost(const network_address& peer, std::error_code never_sent) {
  fail_matching(peer, /*disconnected=*/true,
                [&](const detail::watched_peer& state, const call_watcher& call) {
                  bool maybe_sent = call.connected_ || state.epoch > call.epoch_;
                  return maybe_sent ? make_error_code(error::request_maybe_delivered) : never_sent;
                });
}

void failure_monitor::on_session_lost(const network_address& peer) {
  fail_matching(peer, /*disconnected=*/false,
                [](const detail::watched_peer& state, const call_watcher& call) {
                  bool maybe_sent = call.connected_ || state.epoch > call.epoch_;
                  return maybe_sent ? make_error_code(error::request_maybe_delivered)
                                    : std::error_code{};
                });
}

void failure_monitor::on_endpoint_not_found(const network_address& peer, const uid& token) {
  fail_matching(
      peer, /*disconnected=*/false, [&](const detail::watched_peer&, const call_watcher& call) {
        return call.destination_token_ == token ? make_error_code(error::endpoint_not_found)
                                                : std::error_code{};
      });
}

void failure_monitor::fail_all(std::error_code reason) {
  failure_list failures;
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    for (auto& [address, peer] : peers_)
      while (peer.head != nullptr) {
        auto* call = peer.head;
        unlink(*call);
        failures.emplace_back(call, reason);
      }
    peers_.clear();
  }
  notify(failures);
}

template <class Verdict>
void failure_monitor::fail_matching(const network_address& peer, bool disconnected,
                                    Verdict verdict) {
  failure_list failures;
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    auto found = peers_.find(peer);
    if (found == peers_.end())
      return;
    auto& state = found->second;
    if (disconnected)
      state.connected = false;
    for (auto* call = state.head; call != nullptr;) {
      auto* next = call->next_;
      if (auto reason = verdict(state, *call)) {
        unlink(*call);
        // The monitor's reference moves to the list, and goes in notify().
        failures.emplace_back(call, reason);
      }
      call = next;
    }
  }
  notify(failures);
}

void failure_monitor::notify(failure_list& failures) noexcept {
  for (auto& [watcher, reason] : failures) {
    watcher->on_call_failed(reason);
    watcher->release();
  }
  failures.clear();
}

} // namespace grainflow
