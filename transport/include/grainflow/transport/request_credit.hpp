#pragma once

/// @file
/// Request flow control, the receiving side: how much of a peer's request
/// traffic this process has taken in and not yet answered, and the tickets
/// that give that room back (docs/protocol.md, "Request flow control").

#include "grainflow/endpoints/intrusive_ptr.hpp"
#include "grainflow/endpoints/ref_counted.hpp"
#include "grainflow/transport/unique_function.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace grainflow {

/// One session's account of admitted and released request bytes from one
/// peer. The peer admits each request as it is delivered (network thread);
/// whoever holds the request's ticket releases it when the request is
/// answered or dropped (any thread). The difference is the peer's backlog
/// here, which its window bounds: the peer stops sending requests while its
/// backlog would exceed the window, and resumes as releases are granted back.
///
/// A session that is given up gets a new account; tickets of the old one
/// still release into it, harmlessly (nobody grants from it any more).
class credit_account final : public ref_counted {
public:
  /// `on_grant_due` runs (on the releasing thread, at most once until
  /// `take_grant` is called) when releases since the last grant reached
  /// `grant_step` bytes; it should get `take_grant` called on the network
  /// thread soon.
  credit_account(std::size_t grant_step, unique_function<void()> on_grant_due) noexcept
      : grant_step_(grant_step == 0 ? 1 : grant_step)
      , on_grant_due_(std::move(on_grant_due)) {}

  /// A request of `bytes` arrived. Network thread.
  void admit(std::size_t bytes) noexcept {
    // relaxed: a counter read only for reporting; the ticket that pairs with
    // it is handed over by the same thread.
    admitted_.fetch_add(bytes, std::memory_order_relaxed);
  }

  /// A request of `bytes` was answered or dropped. Any thread.
  void release(std::size_t bytes) noexcept {
    // acq_rel: the network thread that takes the grant must see every release
    // counted before the flag that asks it to.
    auto total = released_.fetch_add(bytes, std::memory_order_acq_rel) + bytes;
    if (total - granted_.load(std::memory_order_acquire) >= grant_step_ &&
        !grant_due_.exchange(true, std::memory_order_acq_rel) && on_grant_due_)
      on_grant_due_();
  }

  /// Returns the bytes released so far (what the peer may add to its window)
  /// and records them as granted. Network thread.
  std::uint64_t take_grant() noexcept {
    // The flag first: a release after this point asks again.
    grant_due_.store(false, std::memory_order_release);
    auto total = released_.load(std::memory_order_acquire);
    granted_.store(total, std::memory_order_release);
    return total;
  }

  /// Bytes admitted and not yet released: the peer's backlog here.
  std::uint64_t backlog() const noexcept {
    // Two independent snapshots, for reporting: never negative.
    auto released = released_.load(std::memory_order_relaxed);
    auto admitted = admitted_.load(std::memory_order_relaxed);
    return admitted > released ? admitted - released : 0;
  }

  /// Drops the grant callback: the session this account served is gone.
  /// Network thread; releases racing with it may still run the old callback,
  /// which must stay safe to call (it posts to the executor with a weak
  /// reference).
  void retire() noexcept { grant_due_.store(true, std::memory_order_release); }

private:
  const std::size_t grant_step_;
  unique_function<void()> on_grant_due_;
  std::atomic<std::uint64_t> admitted_{0};
  std::atomic<std::uint64_t> released_{0};
  std::atomic<std::uint64_t> granted_{0};
  std::atomic<bool> grant_due_{false};
};

/// A delivered request's claim on its sender's window: released when
/// destroyed or by `release()`. Receivers that keep a request past the
/// delivery call (an actor's mailbox, a promise answered later) keep its
/// ticket with it; a ticket left with the incoming packet is released when the
/// delivery call returns.
class credit_ticket {
public:
  credit_ticket() noexcept = default;

  credit_ticket(intrusive_ptr<credit_account> account, std::size_t bytes) noexcept
      : account_(std::move(account))
      , bytes_(bytes) {}

  credit_ticket(credit_ticket&& other) noexcept
      : account_(std::move(other.account_))
      , bytes_(std::exchange(other.bytes_, 0)) {}

  credit_ticket& operator=(credit_ticket&& other) noexcept {
    if (this != &other) {
      release();
      account_ = std::move(other.account_);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }

  credit_ticket(const credit_ticket&) = delete;
  credit_ticket& operator=(const credit_ticket&) = delete;

  ~credit_ticket() { release(); }

  /// Gives the room back now. Idempotent.
  void release() noexcept {
    if (account_) {
      account_->release(bytes_);
      account_.reset();
      bytes_ = 0;
    }
  }

  explicit operator bool() const noexcept { return static_cast<bool>(account_); }
  std::size_t bytes() const noexcept { return bytes_; }

private:
  intrusive_ptr<credit_account> account_;
  std::size_t bytes_ = 0;
};

} // namespace grainflow
