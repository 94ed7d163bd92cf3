#pragma once

#include "grainflow/actors/detail/misuse.hpp"
#include "grainflow/actors/detail/network_thread.hpp"
#include "grainflow/actors/detail/promise_core.hpp"
#include "grainflow/actors/detail/reply_codec.hpp"
#include "grainflow/endpoints/intrusive_ptr.hpp"
#include "grainflow/transport/flow_transport.hpp"
#include "grainflow/transport/unique_function.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

namespace grainflow::detail {

template <class Rep>
class reply_state;

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
///
/// It is also the call's watcher in the failure monitor (see ship_and_watch()), which
/// holds a reference to it while the call is tracked.
template <class Rep>
class reply_state final : public promise_core<Rep>, public call_watcher {
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
    // seq_cst, with ship()'s two accesses: of a resolution and a first ship()
    // racing, at least one sees the other's flag (a store-load pair), so a
    // reply endpoint is never left registered for a resolved call.
    if (resolved_.exchange(true, std::memory_order_seq_cst))
      return false; // INV-PROMISE-01: someone resolved first
    bool registered = false;
    bool watched = false;
    if (shipped_.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> guard{mtx_};
      registered = std::exchange(registered_, false);
      watched = std::exchange(watched_, false);
    }
    // The reply token dies with the resolution: a late or duplicate reply
    // packet then finds no receiver and is dropped.
    if (watched)
      transport_->monitor().untrack(*this);
    if (registered)
      transport_->remove_endpoint(reply_endpoint_);
    value_.emplace(std::move(outcome));
    // acq_rel: the release publishes value_ to the consumer; the acquire sees
    // the continuation the consumer published before its own exchange.
    if (phase_.exchange(phase_value, std::memory_order_acq_rel) == phase_continuation) {
      run_continuation();
    } else {
      // A blocked waiter tests the phase under the mutex: passing through it
      // here means it either saw the value or is already waiting to be woken.
      { std::lock_guard<std::mutex> guard{mtx_}; }
      ready_.notify_all();
    }
    return true;
  }

  time_point now() const noexcept override {
    return transport_ != nullptr ? transport_->clock().now() : promise_core<Rep>::now();
  }

  result<endpoint> ship() noexcept override {
    // Once registered, the endpoint stays until the resolution: shipping
    // again (the body's promise is packed after the call shipped it for the
    // reply-to field) needs no lock. acquire: pairs with the release below,
    // so the endpoint written before it is complete.
    if (endpoint_published_.load(std::memory_order_acquire) &&
        !resolved_.load(std::memory_order_acquire))
      return reply_endpoint_;
    return ship_and_watch(nullptr, call_mode::resume);
  }

  /// ship(); and, when `destination` is given, asks the failure monitor to
  /// fail this call when the process serving it fails (how: see call_mode).
  /// One turn of the lock for both.
  result<endpoint> ship_and_watch(const endpoint* destination, call_mode mode) {
    // Declared before the lock: if registering fails, the receiver's last
    // reference goes after unlocking (its destructor resolves this state).
    intrusive_ptr<reply_receiver<Rep>> receiver;
    std::lock_guard<std::mutex> guard{mtx_};
    if (!registered_) {
      // seq_cst: see resolve().
      shipped_.store(true, std::memory_order_seq_cst);
      if (resolved_.load(std::memory_order_seq_cst) || transport_ == nullptr)
        return error::transport_closed;
      receiver = make_intrusive<reply_receiver<Rep>>(intrusive_ptr<reply_state>{this});
      auto added = transport_->add_endpoint(receiver);
      if (!added)
        return added.error();
      // Registered at most once: after the resolution this branch returns
      // above. release: see the lock-free path in ship().
      reply_endpoint_ = added.value();
      registered_ = true;
      endpoint_published_.store(true, std::memory_order_release);
      this->keep_remote_holder();
    }
    // Tracked under the lock that resolve() takes to learn whether to
    // untrack: a resolution either comes first (and this does not track) or
    // finds the call tracked. The monitor never calls back under its lock.
    // acquire: a resolution that already ran must be seen, or the watch
    // would outlive the call.
    if (destination != nullptr && !watched_ && !resolved_.load(std::memory_order_acquire)) {
      transport_->monitor().track(*destination, mode, *this);
      watched_ = true;
    }
    return reply_endpoint_;
  }

  // -- call_watcher -------------------------------------------------------------

  void on_call_failed(std::error_code reason) noexcept override { resolve(reason); }
  void keep() noexcept override { this->ref(); }
  void release() noexcept override { this->deref(); }

  // -- consuming the answer ---------------------------------------------------

  /// Blocks until the answer or `deadline` (the call's own when not given),
  /// whichever comes first; at the deadline the call resolves timed_out.
  result<Rep> wait(std::optional<time_point> deadline) noexcept {
    auto effective = earliest(deadline, this->deadline());
    std::unique_lock<std::mutex> lock{mtx_};
    // acquire: pairs with resolve()'s release of value_.
    auto has_value = [this] { return phase_.load(std::memory_order_acquire) == phase_value; };
    if (!has_value() && actors_run_on_this_thread()) {
      lock.unlock();
      report_misuse("reply_future::get() in an actor the network thread runs: use then()");
      resolve(make_error_code(std::errc::resource_deadlock_would_occur));
      lock.lock();
    }
    if (effective && !ready_.wait_until(lock, *effective, has_value)) {
      lock.unlock();
      resolve(error::timed_out);
      lock.lock();
    }
    // Also when the timeout lost to a racing resolution still on its way.
    ready_.wait(lock, has_value);
    return std::move(*value_);
  }

  /// Runs `next` with the answer, on the resolving thread, or at once when
  /// it is already there. Without a lock: see resolve().
  void on_resolved(continuation next) {
    continuation_ = std::move(next);
    // acq_rel: releases continuation_ to the resolver; acquires its value_.
    if (phase_.exchange(phase_continuation, std::memory_order_acq_rel) == phase_value)
      run_continuation();
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

  void run_continuation() noexcept {
    auto next = std::move(continuation_);
    next(std::move(*value_));
  }

  // Who got to the phase first: the consumer (a continuation waits for the
  // value) or the resolver (a value waits for its consumer).
  static constexpr std::uint8_t phase_pending = 0;
  static constexpr std::uint8_t phase_continuation = 1;
  static constexpr std::uint8_t phase_value = 2;
  static_assert(std::atomic<std::uint8_t>::is_always_lock_free);

  flow_transport* transport_;
  // Guards the reply endpoint and the watch (serialized calls only), and is
  // the blocked waiter's mutex; the in-process actor path never takes it.
  std::mutex mtx_;
  std::condition_variable ready_;
  std::atomic<bool> resolved_{false};
  std::atomic<bool> shipped_{false};
  std::atomic<std::uint8_t> phase_{phase_pending};
  std::optional<result<Rep>> value_;
  continuation continuation_;
  // Whether the failure monitor tracks this call (guarded by mtx_).
  bool watched_ = false;
  // The reply endpoint: written once, before endpoint_published_ is set,
  // and never again (ship()'s lock-free path reads it).
  endpoint reply_endpoint_;
  std::atomic<bool> endpoint_published_{false};
  // Whether reply_endpoint_ is in the transport's map (guarded by mtx_):
  // from the registration to the resolution.
  bool registered_ = false;
};

} // namespace grainflow::detail
