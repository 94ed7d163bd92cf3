#include "grainflow/transport/failure_monitor.hpp"

#include "grainflow/endpoints/error.hpp"

namespace grainflow {

call_watcher::~call_watcher() = default;

void failure_monitor::track(const endpoint& destination, const uid& reply_token, call_mode mode,
                            intrusive_ptr<call_watcher> watcher) {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto& peer = peers_[destination.address];
  peer.calls[reply_token] =
      tracked_call{destination.token, mode, peer.epoch, peer.connected, std::move(watcher)};
}

void failure_monitor::untrack(const network_address& peer, const uid& reply_token) noexcept {
  intrusive_ptr<call_watcher> released;
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    auto found = peers_.find(peer);
    if (found == peers_.end())
      return;
    auto call = found->second.calls.find(reply_token);
    if (call == found->second.calls.end())
      return;
    // Released after unlocking: a watcher's destructor may call back in.
    released = std::move(call->second.watcher);
    found->second.calls.erase(call);
  }
}

std::size_t failure_monitor::tracked(const network_address& peer) const {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto found = peers_.find(peer);
  return found == peers_.end() ? 0 : found->second.calls.size();
}

void failure_monitor::on_connected(const network_address& peer) {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto& state = peers_[peer];
  ++state.epoch;
  state.connected = true;
}

void failure_monitor::on_disconnected(const network_address& peer) {
  fail_matching(peer, /*disconnected=*/true, [](const peer_calls&, const tracked_call& call) {
    return call.mode == call_mode::fail_fast ? make_error_code(error::request_maybe_delivered)
                                             : std::error_code{};
  });
}

void failure_monitor::on_peer_lost(const network_address& peer, std::error_code never_sent) {
  fail_matching(peer, /*disconnected=*/true,
                [&](const peer_calls& state, const tracked_call& call) {
                  bool maybe_sent = call.connected || state.epoch > call.epoch;
                  return maybe_sent ? make_error_code(error::request_maybe_delivered) : never_sent;
                });
}

void failure_monitor::on_session_lost(const network_address& peer) {
  fail_matching(
      peer, /*disconnected=*/false, [](const peer_calls& state, const tracked_call& call) {
        bool maybe_sent = call.connected || state.epoch > call.epoch;
        return maybe_sent ? make_error_code(error::request_maybe_delivered) : std::error_code{};
      });
}

void failure_monitor::on_endpoint_not_found(const network_address& peer, const uid& token) {
  fail_matching(peer, /*disconnected=*/false, [&](const peer_calls&, const tracked_call& call) {
    return call.destination_token == token ? make_error_code(error::endpoint_not_found)
                                           : std::error_code{};
  });
}

void failure_monitor::fail_all(std::error_code reason) {
  failure_list failures;
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    for (auto& [address, state] : peers_)
      for (auto& [token, call] : state.calls)
        failures.emplace_back(std::move(call.watcher), reason);
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
    for (auto i = state.calls.begin(); i != state.calls.end();) {
      if (auto reason = verdict(state, i->second)) {
        failures.emplace_back(std::move(i->second.watcher), reason);
        i = state.calls.erase(i);
      } else {
        ++i;
      }
    }
  }
  notify(failures);
}

void failure_monitor::notify(failure_list& failures) noexcept {
  for (auto& [watcher, reason] : failures)
    watcher->on_call_failed(reason);
  failures.clear();
}

} // namespace grainflow
