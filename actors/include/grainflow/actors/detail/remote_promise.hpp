#pragma once

#include "grainflow/actors/detail/promise_core.hpp"
#include "grainflow/actors/detail/reply_codec.hpp"
#include "grainflow/transport/flow_transport.hpp"

#include <atomic>

namespace grainflow::detail {

/// The holder's end of a promise that arrived serialized: answering sends a
/// reply packet to the caller's reply endpoint; dropping the last holder
/// unanswered sends broken_promise there (INV-PROMISE-02 across processes).
template <class Rep>
class remote_promise final : public promise_core<Rep> {
public:
  remote_promise(flow_transport& transport, endpoint reply_to, std::optional<time_point> deadline)
      : promise_core<Rep>(deadline)
      , transport_(transport)
      , reply_to_(std::move(reply_to)) {}

  bool resolve(result<Rep>&& outcome) noexcept override {
    // acq_rel: exactly one resolution sends (INV-PROMISE-01).
    if (resolved_.exchange(true, std::memory_order_acq_rel))
      return false;
    // A reply that cannot be sent (the caller's process is gone, or its token
    // died with a timeout) has nobody left to tell: the caller's side resolves
    // through its own deadline or failure monitor.
    try {
      (void)transport_.send_packet(
          reply_to_, [&](std::vector<std::byte>& out) { append_reply(out, outcome); });
    } catch (...) {
      // Packing a user's value threw: tell the caller instead.
      result<Rep> failed{make_error_code(error::serialization_failed)};
      (void)transport_.send_packet(reply_to_,
                                   [&](std::vector<std::byte>& out) { append_reply(out, failed); });
    }
    // Answered: the caller's process may send another request in its place.
    release_ticket();
    return true;
  }

  void hold(credit_ticket&& ticket) noexcept override { ticket_ = std::move(ticket); }

  result<endpoint> ship() noexcept override {
    this->keep_remote_holder();
    release_ticket();
    return reply_to_;
  }

  time_point now() const noexcept override { return transport_.clock().now(); }

  void disarm() noexcept override { resolved_.store(true, std::memory_order_release); }

private:
  void release_ticket() noexcept {
    // acq_rel: one caller wins and releases; hold() happened before either.
    if (!ticket_released_.exchange(true, std::memory_order_acq_rel))
      ticket_.release();
  }

  flow_transport& transport_;
  endpoint reply_to_;
  std::atomic<bool> resolved_{false};
  // Set once, by the delivering thread, before the request is enqueued (the
  // enqueue publishes it); released once, by the first of resolve() and
  // ship() (forwarded: the answer no longer passes here), or at destruction.
  credit_ticket ticket_;
  std::atomic<bool> ticket_released_{false};
};

} // namespace grainflow::detail
