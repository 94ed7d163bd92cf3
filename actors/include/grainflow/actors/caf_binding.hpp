#pragma once

// The CAF binding: actors serve request streams and interfaces, and handle
// their requests in their behaviour like any other message; replies to an
// actor's own calls run as continuations in its context.

#include "grainflow/actors/interface.hpp"
#include "grainflow/actors/reply_future.hpp"
#include "grainflow/actors/request_stream.hpp"

#include <caf/actor_cast.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/response_handle.hpp>
#include <caf/sec.hpp>

#include <vector>

namespace grainflow::detail {

/// The answer to an actor's call, as it travels through the actor's mailbox
/// to the continuation.
/// Asks `actor` to terminate (exit_reason::user_shutdown).
void stop_actor(const caf::strong_actor_ptr& actor) noexcept;

/// Records `context` as this thread's CAF worker when it is one. A worker
/// thread runs the same worker until its actor system ends, so once seen it
/// stays right for every later actor on this thread.
void note_worker(caf::execution_unit* context) noexcept;

/// Where to schedule `target` when a message from this thread wakes it: this
/// thread's worker when it serves target's actor system — so a hand-off
/// between two actors runs next on the same core, as CAF's own sends do —
/// and null (CAF's shared queue) otherwise.
caf::execution_unit* enqueue_context(const caf::strong_actor_ptr& target) noexcept;

template <class Rep>
struct reply_envelope {
  result<Rep> outcome = error::cancelled;
};

/// Puts requests for one stream into an actor's mailbox: unserialized ones
/// moved, serialized ones decoded first (a body that does not decode is
/// answered serialization_failed). A request whose deadline passed before
/// it arrived is answered timed_out and never reaches the handler.
template <class Req>
class actor_request_receiver final : public typed_receiver<Req> {
public:
  actor_request_receiver(flow_transport& transport, caf::strong_actor_ptr actor)
      : transport_(transport)
      , actor_(std::move(actor)) {}

  ~actor_request_receiver() override {
    // The transport shutting down releases its endpoints: the node shuts
    // down, and so do the actors that served them (even if handles remain).
    if (transport_.shutting_down())
      stop_actor(actor_);
  }

  void receive_local(Req&& request, std::optional<time_point> deadline) noexcept override {
    if (deadline && *deadline <= transport_.clock().now()) {
      request.reply.send_error(error::timed_out);
      return;
    }
    enqueue(std::move(request));
  }

  void receive_serialized(const incoming_packet& packet) noexcept override {
    auto decoded = decode_request<Req>(transport_, packet.payload);
    if (!decoded.request) {
      transport_.note_undecodable_payload();
      if (decoded.reply_to) {
        result<reply_type_t<Req>> failed{make_error_code(error::serialization_failed)};
        (void)transport_.send_packet(
            *decoded.reply_to, [&](std::vector<std::byte>& out) { append_reply(out, failed); });
      }
      return;
    }
    // The request counts against its sender's window until it is answered.
    if (packet.ticket != nullptr && decoded.request.value().reply.core())
      decoded.request.value().reply.core()->hold(std::move(*packet.ticket));
    receive_local(std::move(decoded.request).value(), decoded.deadline);
  }

private:
  void enqueue(Req&& request) noexcept {
    // A terminated actor drops the element; dropping it drops the promise,
    // and the caller gets broken_promise (INV-PROMISE-02).
    actor_->enqueue(
        caf::make_mailbox_element(nullptr, caf::make_message_id(), {}, std::move(request)),
        enqueue_context(actor_));
  }

  flow_transport& transport_;
  caf::strong_actor_ptr actor_;
};

/// Removes an actor's endpoints when it terminates, so later requests get
/// endpoint_not_found (at once when it terminated already).
void remove_on_exit(const caf::strong_actor_ptr& actor, flow_transport& transport,
                    const endpoint& base, std::size_t count);

} // namespace grainflow::detail

namespace grainflow {

/// Serves requests of type `Req` in an actor — `self` inside it, or its
/// handle (caf::actor) from outside: returns the stream clients call.
/// The actor handles `Req&` in its behaviour and answers through its
/// `reply` (now, or later from a kept copy). The endpoint lives until the
/// actor terminates; `transport` must outlive the actor.
template <class Req, class Handle>
[[nodiscard]] result<request_stream<Req>> serve(const Handle& handle, flow_transport& transport) {
  auto actor = caf::actor_cast<caf::strong_actor_ptr>(handle);
  auto receiver = make_intrusive<detail::actor_request_receiver<Req>>(transport, actor);
  auto added = transport.add_endpoint(std::move(receiver));
  if (!added)
    return added.error();
  detail::remove_on_exit(actor, transport, added.value(), 1);
  return request_stream<Req>{transport, added.value()};
}

/// Serves every method of interface `I` in an actor (`self` or a handle),
/// registered in one call under consecutive tokens: returns the interface
/// clients call.
template <interface_type I, class Handle>
[[nodiscard]] result<I> serve(const Handle& handle, flow_transport& transport) {
  auto actor = caf::actor_cast<caf::strong_actor_ptr>(handle);
  std::vector<intrusive_ptr<message_receiver>> receivers(I::method_count);
  I iface;
  bool numbers_valid = true;
  iface.visit_methods([&](auto& stream, std::size_t method) {
    using request = typename std::decay_t<decltype(stream)>::request;
    if (method >= receivers.size() || receivers[method]) {
      numbers_valid = false;
      return;
    }
    receivers[method] = make_intrusive<detail::actor_request_receiver<request>>(transport, actor);
  });
  for (auto& receiver : receivers)
    numbers_valid = numbers_valid && receiver;
  // Method numbers must be 0..method_count-1, each once.
  if (!numbers_valid)
    return make_error_code(std::errc::invalid_argument);
  auto added = transport.add_endpoints(receivers);
  if (!added)
    return added.error();
  detail::remove_on_exit(actor, transport, added.value(), I::method_count);
  return interface_at<I>(transport, added.value());
}

/// Runs `on_result(result<Rep>)` in `self`'s context when the call
/// resolves — in order with the actor's other messages, as CAF's
/// request(...).then(...) does. The call's deadline, if any, fires inside
/// the actor as timed_out.
template <class Rep, class Self, class F>
void then(Self* self, reply_future<Rep> future, F on_result) {
  auto state = future.take();
  if (!state) {
    detail::report_misuse("then() on a consumed reply_future");
    return;
  }
  detail::note_worker(self->context());
  auto request_id = self->new_request_id(caf::message_priority::normal);
  auto response_id = request_id.response_id();
  caf::response_handle<Self, caf::message, false>{response_id, self}.then(
      [self, on_result](detail::reply_envelope<Rep>& envelope) mutable {
        detail::note_worker(self->context());
        on_result(std::move(envelope.outcome));
      },
      [on_result, state](caf::error& err) mutable {
        // CAF's own timeout for this response id: the call's deadline.
        auto code = err == caf::sec::request_timeout ? error::timed_out : error::cancelled;
        state->resolve(code);
        on_result(result<Rep>{make_error_code(code)});
      });
  if (auto deadline = state->deadline()) {
    auto remaining = std::chrono::duration_cast<std::chrono::microseconds>(
        *deadline - state->transport()->clock().now());
    if (remaining.count() <= 0)
      state->resolve(error::timed_out);
    else
      self->request_response_timeout(caf::duration{remaining}, request_id);
  }
  state->on_resolved(
      [target = caf::actor_cast<caf::strong_actor_ptr>(self), response_id](result<Rep>&& outcome) {
        target->enqueue(caf::make_mailbox_element(nullptr, response_id, {},
                                                  detail::reply_envelope<Rep>{std::move(outcome)}),
                        detail::enqueue_context(target));
      });
}

} // namespace grainflow

namespace caf {

/// Requests and reply envelopes travel through mailboxes of this process
/// only (the wire uses msgpack), so CAF's own serialization never sees them.
template <grainflow::request_type Req>
struct allowed_unsafe_message_type<Req> : std::true_type {};

template <class Rep>
struct allowed_unsafe_message_type<grainflow::detail::reply_envelope<Rep>> : std::true_type {};

} // namespace caf
