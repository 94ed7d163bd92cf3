#pragma once

#include "grainflow/endpoints/endpoint.hpp"
#include "grainflow/endpoints/error.hpp"
#include "grainflow/endpoints/ref_counted.hpp"
#include "grainflow/endpoints/result.hpp"
#include "grainflow/transport/providers.hpp"
#include "grainflow/transport/request_credit.hpp"

#include <atomic>
#include <optional>

namespace grainflow::detail {

/// The type-independent part of a promise core: what a deserialization
/// context needs to disarm cores of a request that failed to decode.
class promise_core_base : public ref_counted {
public:
  /// Marks the core resolved without sending anything: used when the request
  /// that carried it failed to decode (the caller gets serialization_failed
  /// instead of broken_promise).
  virtual void disarm() noexcept {}

  /// Keeps the request's flow-control ticket until the answer has left
  /// (remote_promise); other cores let it go at once.
  virtual void hold(credit_ticket&& ticket) noexcept { ticket.release(); }
};

/// What every copy of one reply_promise shares in this process: the holder
/// count that detects a broken promise, the "answered" flag that catches a
/// double answer, and the way an answer reaches the caller (implemented by
/// reply_state, the caller's own end, and remote_promise, the end of a
/// promise that arrived serialized).
///
/// INV-PROMISE-01: a core resolves at most once; later resolutions have no
/// effect. INV-PROMISE-02: when the holder count drops to zero before an
/// answer, the core resolves with broken_promise. INV-PROMISE-03: a core that
/// was shipped (serialized to another holder) never breaks locally: it keeps a
/// holder for the remote side, whose own core answers or breaks instead.
template <class Rep>
class promise_core : public promise_core_base {
public:
  using value_type = Rep;

  explicit promise_core(std::optional<time_point> deadline)
      : deadline_(deadline) {}

  // -- holders ----------------------------------------------------------------

  void add_holder() noexcept {
    // relaxed: a new holder is made from an existing one, which already keeps
    // the count above zero; nothing is published through the count.
    holders_.fetch_add(1, std::memory_order_relaxed);
  }

  void drop_holder() noexcept {
    // acq_rel: the last holder must see every answer attempt other holders
    // made before dropping theirs (answered_), and its own answer must be
    // visible to whoever observes the count.
    if (holders_.fetch_sub(1, std::memory_order_acq_rel) == 1 && !answered())
      resolve(error::broken_promise);
  }

  /// Called by the holder that answers. Returns false when some holder
  /// already answered (a programming error of the server).
  bool mark_answered() noexcept {
    // acq_rel: exactly one holder wins the exchange; see drop_holder.
    return !answered_.exchange(true, std::memory_order_acq_rel);
  }

  bool answered() const noexcept { return answered_.load(std::memory_order_acquire); }

  // -- operations -------------------------------------------------------------

  /// Delivers the outcome to the caller. Returns false, with no effect, when
  /// the core was resolved already (INV-PROMISE-01).
  virtual bool resolve(result<Rep>&& outcome) noexcept = 0;

  /// The endpoint another process answers to, for serializing this promise.
  /// From then on the core keeps one holder for the remote side
  /// (INV-PROMISE-03).
  virtual result<endpoint> ship() noexcept = 0;

  std::optional<time_point> deadline() const noexcept { return deadline_; }

  /// Now, by the clock of the transport this call travels on — what its
  /// deadline is measured against (virtual time in simulation). The steady
  /// clock for a core bound to no transport.
  virtual time_point now() const noexcept { return std::chrono::steady_clock::now(); }

protected:
  /// Keeps the holder that stands for the remote side, once per core.
  void keep_remote_holder() noexcept {
    if (!shipped_.exchange(true, std::memory_order_acq_rel))
      add_holder();
  }

private:
  std::optional<time_point> deadline_;
  std::atomic<std::size_t> holders_{0};
  std::atomic<bool> answered_{false};
  std::atomic<bool> shipped_{false};
};

} // namespace grainflow::detail
