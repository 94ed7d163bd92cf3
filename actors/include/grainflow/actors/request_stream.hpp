#pragma once

#include "grainflow/actors/call_options.hpp"
#include "grainflow/actors/detail/reply_state.hpp"
#include "grainflow/actors/detail/request_codec.hpp"
#include "grainflow/actors/detail/serialization_context.hpp"
#include "grainflow/actors/reply_future.hpp"
#include "grainflow/actors/reply_promise.hpp"
#include "grainflow/endpoints/endpoint.hpp"
#include "grainflow/transport/flow_transport.hpp"
#include "grainflow/transport/typed_receiver.hpp"

#include <msgpack.hpp>

#include <type_traits>
#include <utility>

namespace grainflow {

/// A request type: default-constructible, copyable, msgpack-serializable,
/// with a `reply` member of type reply_promise<R>.
template <class Req>
concept request_type = std::is_default_constructible_v<Req> && std::is_copy_constructible_v<Req> &&
    requires(Req r) {
  requires is_reply_promise<decltype(Req::reply)>::value;
};

/// The reply type R of a request type.
template <request_type Req>
using reply_type_t = typename decltype(Req::reply)::value_type;

/// A handle to an endpoint that serves requests of type `Req`.
///
/// On a client it points at the server's endpoint, in this process or
/// another; it is cheap to copy and travels inside messages (as its
/// endpoint). On the server, `serve` (caf_binding.hpp) makes one bound to an
/// actor. Every call chooses its delivery guarantee by its name, as
/// FoundationDB's RequestStream does.
template <class Req>
class request_stream {
public:
  static_assert(request_type<Req>, "a request type needs a default constructor, copies, and a "
                                   "`reply` member of type grainflow::reply_promise<R>");
  using request = Req;
  using reply = reply_type_t<Req>;

  // -- construction -----------------------------------------------------------

  request_stream() noexcept = default;

  request_stream(flow_transport& transport, endpoint destination) noexcept
      : transport_(&transport)
      , endpoint_(std::move(destination)) {}

  // -- properties -------------------------------------------------------------

  const endpoint& get_endpoint() const noexcept { return endpoint_; }
  flow_transport* transport() const noexcept { return transport_; }
  bool valid() const noexcept { return transport_ != nullptr && endpoint_.valid(); }

  // -- calls ------------------------------------------------------------------

  /// Delivery: at most once, no answer. The request's `reply` is left empty.
  /// An error means it was certainly not delivered (endpoint_not_found,
  /// serialization_failed, transport_closed, ...); success means it was
  /// handed to the receiver or to the network, not that it was handled.
  [[nodiscard]] result<void> send(Req req, call_options options = {}) const {
    req.reply = reply_promise<reply>{};
    return deliver(std::move(req), options, nullptr, call_mode::fail_fast);
  }

  /// Delivery: exactly once while both processes live — the request reaches
  /// its handler once even if connections drop and come back (the session
  /// replays it). The future holds the answer, or an error: the handler's
  /// own, broken_promise, endpoint_not_found, timed_out at the deadline, or
  /// request_maybe_delivered / connection_failed when a process died.
  [[nodiscard]] reply_future<reply> get_reply(Req req, call_options options = {}) const {
    return call(std::move(req), options, call_mode::resume);
  }

  /// Delivery: like get_reply, but a dropped connection ends the wait at
  /// once with request_maybe_delivered instead of waiting for the session to
  /// resume. For callers that would rather retry elsewhere than wait.
  [[nodiscard]] reply_future<reply> try_get_reply(Req req, call_options options = {}) const {
    return call(std::move(req), options, call_mode::fail_fast);
  }

private:
  reply_future<reply> call(Req req, const call_options& options, call_mode mode) const {
    if (!valid()) {
      detail::report_misuse("call on an unbound request_stream");
      return failed_future(error::endpoint_not_found);
    }
    auto state = make_intrusive<detail::reply_state<reply>>(transport_, options.deadline);
    req.reply = reply_promise<reply>{state};
    if (auto sent = deliver(std::move(req), options, state.get(), mode); !sent)
      state->resolve(sent.error());
    return reply_future<reply>{std::move(state)};
  }

  static reply_future<reply> failed_future(error code) {
    auto state = make_intrusive<detail::reply_state<reply>>(nullptr, std::nullopt);
    state->resolve(code);
    return reply_future<reply>{std::move(state)};
  }

  result<void> deliver(Req&& req, const call_options& options, detail::reply_state<reply>* state,
                       call_mode mode) const {
    if (!transport_->config().serialize_local_delivery) {
      if (auto receiver = transport_->find_local(endpoint_)) {
        const std::type_info* accepted = receiver->local_type();
        if (accepted == nullptr || (accepted != &typeid(Req) && *accepted != typeid(Req)))
          return error::wrong_message_type;
        transport_->note_local_delivery();
        static_cast<typed_receiver<Req>&>(*receiver).receive_local(std::move(req),
                                                                   options.deadline);
        return success();
      }
      if (transport_->is_local(endpoint_.address))
        return transport_->closed() ? error::transport_closed : error::endpoint_not_found;
    }
    return send_serialized(req, options, state, mode);
  }

  result<void> send_serialized(const Req& req, const call_options& options,
                               detail::reply_state<reply>* state, call_mode mode) const {
    std::optional<endpoint> reply_to;
    if (state != nullptr) {
      // Watched before it leaves, so no failure of the peer can slip past.
      const bool remote = !transport_->is_local(endpoint_.address);
      auto shipped = state->ship_and_watch(remote ? &endpoint_ : nullptr, mode);
      if (!shipped)
        return shipped.error();
      reply_to = shipped.value();
    }
    auto how = state != nullptr ? delivery::request : delivery::unreliable;
    // The clock is read only for a deadline, which travels as time left.
    const auto now = options.deadline ? transport_->clock().now() : time_point{};
    try {
      return transport_->send_packet(
          endpoint_,
          [&](std::vector<std::byte>& out) {
            detail::append_request(out, req, reply_to, options.deadline, now);
          },
          how);
    } catch (...) {
      // A user type whose packing throws cannot be sent.
      return error::serialization_failed;
    }
  }

  flow_transport* transport_ = nullptr;
  endpoint endpoint_;
};

} // namespace grainflow

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  /// A stream travels as its endpoint; the receiving process binds it to
  /// its own transport.
  template <class Req>
  struct pack<grainflow::request_stream<Req>> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& out, const grainflow::request_stream<Req>& x) const {
      return out.pack(x.get_endpoint());
    }
  };

  template <class Req>
  struct convert<grainflow::request_stream<Req>> {
    const msgpack::object& operator()(const msgpack::object& in,
                                      grainflow::request_stream<Req>& x) const {
      auto* context = grainflow::detail::current_unpack_context();
      if (context == nullptr || context->transport == nullptr)
        throw msgpack::type_error{};
      x = grainflow::request_stream<Req>{*context->transport, in.as<grainflow::endpoint>()};
      return in;
    }
  };

  } // namespace adaptor
}
} // namespace msgpack
