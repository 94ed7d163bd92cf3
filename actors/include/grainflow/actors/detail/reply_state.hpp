#pragma once

#include "grainflow/actors/detail/promise_core.hpp"
#include "grainflow/actors/detail/reply_codec.hpp"
#include "grainflow/endpoints/intrusive_ptr.hpp"
#include "grainflow/transport/flow_transport.hpp"
#include "grainflow/transport/unique_function.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>

namespace grainflow::detail {

template <class Rep>
class reply_state;

/// Told by the failure monitor when the call's peer fails.
template <class Rep>
class reply_watcher final : public call_watcher {
public:
  explicit reply_watcher(intrusive_ptr<reply_state<Rep>> state)
      : state_(std::move(state)) {}
  void on_call_failed(std::error_code reason) noexcept override { state_->resolve(reason); }

private:
  intrusive_ptr<reply_state<Rep>> state_;
};

/// Registered under a call's reply token once its promise is serialized:
/// decodes reply packets into the state. When the map lets go of it unused
/// (transport closed), the call fails with transport_closed.
template <class Rep>
class reply_receiver final : public message_receiver {
public:
  explicit reply_receiver(intrusive_ptr<reply_state<Rep>> state)
      : state_(std::move(state)) {}

  ~reply_receiver() override { state_->resolve(error::transport_closed); }

  void receive_serialized(const incoming_packet& packet) noexcept override {
    state_->resolve(decode_reply<Rep>(packet.payload));
  }

private:
  intrusive_ptr<reply_state<Rep>> state_;
};

/// The caller's end of one call: where the answer lands, whoever produces
/// it (a same-process holder, a reply packet, a timeout, or the last holder
/// breaking the promise). A blocked get() or an actor continuation takes it.
template <class Rep>
class reply_state final : public promise_core<Rep> {
public:
  // Move-only with inline storage: the actor binding's continuation (an actor
  // pointer and a message id) fits without a heap allocation per call.
  using continuation = unique_function<void(result<Rep>&&)>;

  /// `transport` may be null for a call that failed before it left.
  reply_state(flow_transport* transport, std::optional<time_point> deadline)
      : promise_core<Rep>(deadline)
      , transport_(transport) {}

  // -- promise_core -----------------------------------------------------------

  bool resolve(result<Rep>&& outcome) noexcept override {
    continuation next;
    std::optional<endpoint> registered;
    std::optional<network_address> watched;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (resolved_)
        return false;
      resolved_ = true;
      registered = std::exchange(reply_endpoint_, std::nullopt);
      watched = std::exchange(watched_peer_, std::nullopt);
      if (continuation_)
        next = std::move(continuation_);
      else
        value_.emplace(std::move(outcome));
    }
    // The reply token dies with the resolution: a late or duplicate reply
    // packet then finds no receiver and is dropped.
    if (watched)
      transport_->monitor().untrack(*watched, registered->token);
    if (registered)
      transport_->remove_endpoint(*registered);
    if (next)
      next(std::move(outcome));
    else
      ready_.notify_all();
    return true;
  }

  result<endpoint> ship() noexcept override {
    // Declared before the lock: if registering fails, the receiver's last
    // reference goes after unlocking (its destructor resolves this state).
    intrusive_ptr<reply_receiver<Rep>> receiver;
    std::lock_guard<std::mutex> guard{mtx_};
    if (!reply_endpoint_) {
      if (resolved_ || transport_ == nullptr)
        return error::transport_closed;
      receiver = make_intrusive<reply_receiver<Rep>>(intrusive_ptr<reply_state>{this});
      auto added = transport_->add_endpoint(receiver);
      if (!added)
        return added.error();
      reply_endpoint_ = added.value();
      this->keep_remote_holder();
    }
    return *reply_endpoint_;
  }

  /// Asks the failure monitor to fail this call when the process serving
  /// `destination` fails (how: see call_mode). @pre ship() succeeded.
  void watch(const endpoint& destination, call_mode mode) {
    uid reply_token;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (resolved_ || !reply_endpoint_)
        return;
      reply_token = reply_endpoint_->token;
      watched_peer_ = destination.address;
    }
    transport_->monitor().track(
        destination, reply_token, mode,
        make_intrusive<reply_watcher<Rep>>(intrusive_ptr<reply_state>{this}));
  }

  // -- consuming the answer ---------------------------------------------------

  /// Blocks until the answer or `deadline` (the call's own when not given),
  /// whichever comes first; at the deadline the call resolves timed_out.
  result<Rep> wait(std::optional<time_point> deadline) noexcept {
    auto effective = earliest(deadline, this->deadline());
    std::unique_lock<std::mutex> lock{mtx_};
    auto has_value = [this] { return value_.has_value(); };
    if (effective) {
      if (!ready_.wait_until(lock, *effective, has_value)) {
        lock.unlock();
        resolve(error::timed_out);
        lock.lock();
      }
    } else {
      ready_.wait(lock, has_value);
    }
    return std::move(*value_);
  }

  /// Runs `next` with the answer, on the resolving thread, or at once when
  /// it is already there.
  void on_resolved(continuation next) {
    std::unique_lock<std::mutex> lock{mtx_};
    if (value_) {
      auto value = std::move(*value_);
      lock.unlock();
      next(std::move(value));
      return;
    }
    continuation_ = std::move(next);
  }

  /// The transport the call went out on; null for a call that never left.
  flow_transport* transport() const noexcept { return transport_; }

private:
  static std::optional<time_point> earliest(std::optional<time_point> a,
                                            std::optional<time_point> b) {
    if (a && b)
      return std::min(*a, *b);
    return a ? a : b;
  }

  flow_transport* transport_;
  std::mutex mtx_;
  std::condition_variable ready_;
  bool resolved_ = false;
  std::optional<result<Rep>> value_;
  continuation continuation_;
  std::optional<endpoint> reply_endpoint_;
  std::optional<network_address> watched_peer_;
};

} // namespace grainflow::detail
