#pragma once

#include "grainflow/actors/detail/misuse.hpp"
#include "grainflow/actors/detail/reply_state.hpp"
#include "grainflow/endpoints/intrusive_ptr.hpp"

#include <utility>

namespace grainflow {

/// The caller's half of a call: the answer, an error, or timed_out at the
/// deadline — exactly one of them, exactly once.
///
/// Outside actors, get() blocks. Inside an event-based actor, `then(self, f)`
/// (grainflow/actors/caf_binding.hpp) runs `f` in the actor's own context, in
/// order with its other messages, as CAF's request(...).then(...) does.
/// A future is consumed by one of them; it is move-only.
template <class Rep>
class reply_future {
public:
  using value_type = Rep;

  reply_future() noexcept = default;

  explicit reply_future(intrusive_ptr<detail::reply_state<Rep>> state) noexcept
      : state_(std::move(state)) {}

  reply_future(reply_future&&) noexcept = default;
  reply_future& operator=(reply_future&&) noexcept = default;
  reply_future(const reply_future&) = delete;
  reply_future& operator=(const reply_future&) = delete;

  /// False for a default-constructed or consumed future.
  bool valid() const noexcept { return static_cast<bool>(state_); }

  /// Blocks until the answer, or until the call's deadline (timed_out).
  /// Never call it inside an actor for a call that actor must answer itself.
  [[nodiscard]] result<Rep> get() { return wait(std::nullopt); }

  /// Like get(), but gives up at `deadline` with timed_out (the call is then
  /// over: a later answer is dropped).
  [[nodiscard]] result<Rep> get(time_point deadline) { return wait(deadline); }

  /// Like get(), giving up after `timeout`.
  [[nodiscard]] result<Rep> get(duration timeout) {
    if (!state_ || state_->transport() == nullptr)
      return wait(std::chrono::steady_clock::now() + timeout);
    return wait(state_->transport()->clock().now() + timeout);
  }

  /// For the actor binding: hands over the state (null for a consumed
  /// future) and invalidates this future.
  intrusive_ptr<detail::reply_state<Rep>> take() noexcept { return std::exchange(state_, nullptr); }

private:
  result<Rep> wait(std::optional<time_point> deadline) {
    auto state = take();
    if (!state) {
      detail::report_misuse("reply_future consumed twice");
      return error::cancelled;
    }
    return state->wait(deadline);
  }

  intrusive_ptr<detail::reply_state<Rep>> state_;
};

} // namespace grainflow
