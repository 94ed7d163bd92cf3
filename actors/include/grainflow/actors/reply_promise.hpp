#pragma once

#include "grainflow/actors/detail/misuse.hpp"
#include "grainflow/actors/detail/promise_core.hpp"
#include "grainflow/actors/detail/remote_promise.hpp"
#include "grainflow/actors/detail/serialization_context.hpp"
#include "grainflow/endpoints/intrusive_ptr.hpp"
#include "grainflow/endpoints/msgpack_adaptors.hpp"

#include <msgpack.hpp>

#include <system_error>
#include <utility>

namespace grainflow {

/// The server's half of a call: whoever holds it answers the caller, once.
///
/// Every request type carries one as its `reply` member. Copies share one
/// answer: the first send() or send_error() resolves the call; answering
/// again is a programming error (aborts in debug builds, logged and ignored in
/// release builds). When the last copy is dropped unanswered — a handler that
/// forgot, an actor that died holding it, a request destroyed in a mailbox —
/// the caller gets `broken_promise`, wherever that last copy was. A promise
/// serialized to another process keeps the call open for that holder: the
/// original copy's destruction breaks nothing.
///
/// A default-constructed promise (the reply of a request sent with
/// `request_stream::send`) answers nobody: send() on it does nothing.
template <class Rep>
class reply_promise {
public:
  using value_type = Rep;
  using core_type = detail::promise_core<Rep>;

  // -- construction -----------------------------------------------------------

  reply_promise() noexcept = default;

  explicit reply_promise(intrusive_ptr<core_type> core) noexcept
      : core_(std::move(core)) {
    if (core_)
      core_->add_holder();
  }

  reply_promise(const reply_promise& other) noexcept
      : reply_promise(other.core_) {}

  reply_promise(reply_promise&& other) noexcept = default;

  reply_promise& operator=(reply_promise other) noexcept {
    swap(other);
    return *this;
  }

  ~reply_promise() {
    if (core_)
      core_->drop_holder();
  }

  void swap(reply_promise& other) noexcept { core_.swap(other.core_); }

  // -- properties -------------------------------------------------------------

  /// False for a promise nobody waits on (default-constructed, or moved from).
  bool valid() const noexcept { return static_cast<bool>(core_); }

  /// True once some copy answered.
  bool answered() const noexcept { return core_ && core_->answered(); }

  /// The caller's deadline, if it set one.
  std::optional<time_point> deadline() const noexcept {
    return core_ ? core_->deadline() : std::nullopt;
  }

  /// True when the caller's deadline has passed, by the clock of the
  /// transport the call travels on (so also in simulated time): the caller
  /// already got timed_out, so further work for this call is wasted.
  bool expired() const noexcept { return core_ && expired(core_->now()); }

  /// True when the caller's deadline has passed at `now`.
  bool expired(time_point now) const noexcept {
    auto dl = deadline();
    return dl && *dl <= now;
  }

  // -- operations -------------------------------------------------------------

  /// Answers the caller with a value.
  void send(Rep value) const { answer(result<Rep>{std::move(value)}); }

  /// Answers the caller with an error: an application error (any registered
  /// error category) or one of grainflow's.
  void send_error(std::error_code code) const { answer(result<Rep>{code}); }

  /// For the transport's adaptors.
  const intrusive_ptr<core_type>& core() const noexcept { return core_; }

private:
  void answer(result<Rep>&& outcome) const {
    if (!core_)
      return;
    if (!core_->mark_answered()) {
      detail::report_misuse("reply_promise answered twice; the second answer is ignored");
      return;
    }
    core_->resolve(std::move(outcome));
  }

  intrusive_ptr<core_type> core_;
};

/// Detects `reply_promise<T>`.
template <class T>
struct is_reply_promise : std::false_type {};

template <class Rep>
struct is_reply_promise<reply_promise<Rep>> : std::true_type {};

} // namespace grainflow

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  /// A promise travels as the endpoint its answer goes to, or nil for a
  /// promise nobody waits on.
  template <class Rep>
  struct pack<grainflow::reply_promise<Rep>> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& out, const grainflow::reply_promise<Rep>& x) const {
      if (!x.core())
        return out.pack_nil();
      auto shipped = x.core()->ship();
      if (!shipped)
        throw msgpack::type_error{};
      return out.pack(shipped.value());
    }
  };

  template <class Rep>
  struct convert<grainflow::reply_promise<Rep>> {
    const msgpack::object& operator()(const msgpack::object& in,
                                      grainflow::reply_promise<Rep>& x) const {
      if (in.is_nil()) {
        x = grainflow::reply_promise<Rep>{};
        return in;
      }
      auto* context = grainflow::detail::current_unpack_context();
      if (context == nullptr || context->transport == nullptr)
        throw msgpack::type_error{};
      auto reply_to = in.as<grainflow::endpoint>();
      auto core = grainflow::make_intrusive<grainflow::detail::remote_promise<Rep>>(
          *context->transport, std::move(reply_to), context->deadline);
      context->created(core);
      x = grainflow::reply_promise<Rep>{std::move(core)};
      return in;
    }
  };

  } // namespace adaptor
}
} // namespace msgpack
