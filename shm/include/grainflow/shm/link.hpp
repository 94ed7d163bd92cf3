#pragma once

/// @file
/// A shared-memory link between two processes on one host: messages of up to
/// one slot each, in order, both ways, with backpressure, and with the death
/// of either process noticed by the other.

#include "grainflow/endpoints/result.hpp"
#include "grainflow/shm/config.hpp"
#include "grainflow/shm/layout.hpp"
#include "grainflow/shm/link_stats.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace grainflow::shm {

/// What a link calls, one call at a time: on its own receiver thread, or in
/// polled mode (`receive_mode::polled`) on the thread that calls
/// `link::poll()`.
struct link_handlers {
  /// Called for every message the peer sent, in the order sent. The span is
  /// valid only during the call: copy what must outlive it. For large
  /// messages it points into shared memory the peer wrote; a misbehaving peer
  /// could still change those bytes, so treat them as untrusted input (the
  /// transport checks each packet's CRC). Must not throw. May call `send`
  /// (see there) and `close`, but must not destroy the link. In polled
  /// mode it must not call any member of the link: copy and return.
  std::function<void(std::span<const std::byte>)> on_message;
  /// Called once when the link stops for a reason other than a local
  /// `close()`: the peer closed its end or died, or broke the protocol. Every
  /// message the peer published before that was delivered first.
  /// `error::connection_failed` (peer closed or died; see stats()) or
  /// `error::malformed_packet` (the peer corrupted the shared indices).
  /// May be empty.
  std::function<void(std::error_code)> on_failure;
};

/// One end of a shared-memory link. One side creates the segment
/// (`create`) and hands its `name()` to the other process over a channel of
/// its choice (the transport's TCP connection after the handshake, or the
/// rendezvous in rendezvous.hpp); the other side `open`s it. Each side then
/// sends with `send` and receives through its `on_message` handler.
///
/// Liveness: each side bumps a heartbeat in the segment every
/// `heartbeat_interval`; in addition a link can watch a connected socket
/// (`liveness_fd`) that the kernel closes when the peer process dies. When
/// the peer dies, closes, or stops its heartbeat for `peer_timeout`, this
/// side delivers what the peer had published, reclaims every slot the peer
/// held, fails every waiting and later send with `error::connection_failed`,
/// calls `on_failure`, and removes the segment's name from /dev/shm.
///
/// /dev/shm: the opener removes the name as soon as it has mapped the
/// segment (both sides are then attached); the creator removes it when the
/// peer does not come within `attach_timeout`, when it fails, or when it
/// closes, whichever comes first. The memory lives until both mappings are
/// gone.
///
/// Threads: each link runs a receiver thread (spins briefly, then sleeps on
/// a futex) and a liveness thread (wakes every heartbeat interval). In polled
/// mode (`link_config::receiving`) the caller's thread receives in `poll()`
/// instead, and the receiver thread becomes a waker that watches the ring
/// only while that thread sleeps (shm_link.spec.md, "Polled receiving").
class link {
public:
  // -- constructors -----------------------------------------------------------

  /// Creates a segment of `config.segment`'s geometry and starts this side.
  /// `liveness_fd`, if not -1, is a connected socket to the peer process; the
  /// link watches a duplicate of it (the caller keeps its own) for hang-up
  /// and never reads from it, so the caller may keep using the connection.
  /// Errors: `std::errc::invalid_argument` for a bad config; system errors.
  [[nodiscard]] static result<std::unique_ptr<link>>
  create(const link_config& config, link_handlers handlers, int liveness_fd = -1);

  /// Opens the segment `name` (what the creator's `name()` returned), claims
  /// the opener's side of it, removes the name from /dev/shm and starts this
  /// side. Takes the geometry from the segment; `config.segment` is ignored.
  /// Errors: as segment::open, and `std::errc::device_or_resource_busy` when
  /// another process claimed the opener's side first.
  [[nodiscard]] static result<std::unique_ptr<link>> open(std::string_view name,
                                                          const link_config& config,
                                                          link_handlers handlers,
                                                          int liveness_fd = -1);

  /// Closes the link (see close()) and waits for its threads. Precondition:
  /// not called from this link's handlers, and no call of `send` is running.
  ~link();

  link(const link&) = delete;
  link& operator=(const link&) = delete;

  // -- properties -------------------------------------------------------------

  /// The segment's name, for the other process to `open`.
  const std::string& name() const noexcept;

  /// Which side of the segment this is.
  side which() const noexcept;

  /// The segment's geometry (the creator's config).
  segment_config geometry() const noexcept;

  /// The largest message `send` accepts: the slot size.
  std::size_t max_message_size() const noexcept;

  /// A snapshot of the counters. Thread-safe.
  link_stats stats() const noexcept;

  // -- operations -------------------------------------------------------------

  /// Sends `message` to the peer; returns once it is in the ring (the
  /// payload copied into the descriptor or a slot). Delivery: exactly once
  /// and in order while both processes live; when this returns an error the
  /// message was not sent. When the ring is full or no slot is free the call
  /// waits (spins briefly, then sleeps): backpressure, never a drop.
  ///
  /// Thread-safe: senders on any thread are serialized by a mutex (the ring
  /// has one producer). Calling it from `on_message` is allowed, but a
  /// handler that waits for room while the peer's handler does the same
  /// waits for the other forever; give such sends a deadline. In polled mode
  /// a send on the poller's thread keeps polling while it waits for room, so
  /// two pollers sending to each other do not wait for each other.
  ///
  /// Errors: `error::packet_too_large` (larger than max_message_size(); not
  /// sent), `error::connection_failed` (the peer is gone or broke the
  /// protocol), `error::transport_closed` (this side was closed).
  [[nodiscard]] result<void> send(std::span<const std::byte> message);

  /// As send(message), but gives up at `deadline` with `error::timed_out`
  /// (the message was not sent) if it is still waiting for the send mutex,
  /// ring room or a slot then.
  [[nodiscard]] result<void> send(std::span<const std::byte> message,
                                  std::chrono::steady_clock::time_point deadline);

  /// Closes this side: marks it closed in the segment so the peer delivers
  /// what is in flight and then fails with `connection_failed`, wakes and
  /// fails every waiting send with `error::transport_closed`, stops the
  /// threads (without calling `on_failure`), and removes the segment's name
  /// if it is still there. Idempotent; thread-safe. Called from a handler it
  /// returns without waiting for the receiver thread (the destructor does).
  void close() noexcept;

  // -- polled receiving (receive_mode::polled only) ----------------------------

  /// Delivers every message that is ready (at most one ring's worth) through
  /// `on_message`, on the calling thread, and returns how many. Once the
  /// link stopped for a reason other than `close()`, delivers what the peer
  /// published before and calls `on_failure`, once. Never blocks.
  ///
  /// One poller: call poll() and prepare_sleep() from one thread at a time
  /// (an event loop's), never from a handler. Precondition: polled mode.
  std::size_t poll() noexcept;

  /// The poller is about to block until `wake_fd()` is readable. Returns
  /// true when it may: from now on a new message (or the link stopping)
  /// makes the descriptor readable. False when it must poll first (messages
  /// are ready, or a failure waits to be reported). Precondition: polled
  /// mode.
  [[nodiscard]] bool prepare_sleep() noexcept;

  /// Polled mode: an eventfd (nonblocking) that becomes readable after
  /// `prepare_sleep()` returned true and a message came or the link stopped;
  /// the poller reads 8 bytes to reset it, then polls. -1 in thread mode.
  /// Owned by the link.
  int wake_fd() const noexcept;

private:
  /// Everything of one end (src/link_state.hpp).
  struct state;

  explicit link(std::unique_ptr<state> s) noexcept;

  std::unique_ptr<state> state_;
};

} // namespace grainflow::shm
