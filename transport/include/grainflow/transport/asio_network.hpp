#pragma once

/// @file
/// The real network provider: TCP on standalone Asio, one network thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "grainflow/endpoints/result.hpp"
#include "grainflow/transport/network_provider.hpp"

namespace grainflow {

namespace detail {
class asio_loop;
} // namespace detail

/// How an `asio_network` behaves; the defaults suit production.
struct asio_network_config {
  /// Bytes one read may return: one buffer of this size per connection, so
  /// that a busy connection hands many packets to `on_data` per call.
  std::size_t read_buffer_size = 64 * 1024;
  /// How long a graceful `connection::close()` may take to send what is queued
  /// and see the peer's FIN before the socket is reset instead.
  std::chrono::milliseconds close_linger{5000};
  /// How long a listener pauses after accepting failed for lack of resources
  /// (descriptors, memory), instead of spinning on the error.
  std::chrono::milliseconds accept_retry_delay{100};
  /// How long the network thread keeps polling for work after its last
  /// handler before it sleeps in the kernel. A reply that arrives, or a
  /// packet posted by an actor, within this window costs no thread wake-up
  /// (which is most of a loopback round trip). It polls only while events
  /// come close together (its last sleep was under four times this long), so
  /// a quiet process does not spin; zero never polls.
  std::chrono::microseconds spin_before_sleep{50};
  /// A yield of the spinning thread that takes longer than this gave the core
  /// to a thread that keeps it (another process, a compiler): the cores are
  /// busy, and spinning stops for `spin_pause_when_contended`, during which
  /// the thread sleeps whenever it has no work (as with no spin at all). An
  /// actor handling a packet gives the core back well within the limit.
  std::chrono::microseconds spin_yield_limit{200};
  std::chrono::microseconds spin_pause_when_contended{20'000};
};

/// Counters of an `asio_network`, for tests and monitoring. Each is a snapshot
/// of its own; they are not read atomically together.
struct asio_network_stats {
  /// Connections accepted by listeners.
  std::uint64_t connections_accepted = 0;
  /// Connections established by `connect`.
  std::uint64_t connections_connected = 0;
  /// `connect` calls that failed or timed out.
  std::uint64_t connect_failures = 0;
  /// Accept calls that failed (the listener kept listening).
  std::uint64_t accept_errors = 0;
  /// Write calls issued to the operating system (one per gathered batch).
  std::uint64_t write_calls = 0;
  /// Bytes the operating system accepted for sending.
  std::uint64_t bytes_written = 0;
  /// Reads that returned data.
  std::uint64_t read_calls = 0;
  /// Bytes read.
  std::uint64_t bytes_read = 0;
};

/// The real network: TCP sockets on standalone Asio, all of them served by one
/// network thread that also runs `loop()`'s posted tasks and timers. Every
/// socket has TCP_NODELAY (the transport batches its own writes); listeners
/// set SO_REUSEADDR so a restarted process can listen on its port at once.
///
/// Lifecycle: `create()` → `start()` (spawns the thread) → `stop()` (joins it;
/// the destructor stops too). Listening and connecting before `start()` is
/// allowed; their callbacks run once the thread runs. `stop()` is final.
///
/// Lifetime: connections and listeners may outlive this object (they keep the
/// shared machinery alive); once it stopped they are closed and inert, and the
/// thread that stopped it may destroy them.
class asio_network final : public network_provider {
public:
  // -- constructors -----------------------------------------------------------

  /// Creates a stopped network (no thread yet). Fails when the operating
  /// system refuses the event loop's resources (epoll, eventfd).
  [[nodiscard]] static result<std::unique_ptr<asio_network>>
  create(asio_network_config config = {});

  /// Stops, as `stop()`. @pre Not called on the network thread.
  ~asio_network() override;

  asio_network(const asio_network&) = delete;
  asio_network& operator=(const asio_network&) = delete;

  // -- properties -------------------------------------------------------------

  /// Returns the configuration given to `create()`. Any thread.
  [[nodiscard]] const asio_network_config& config() const noexcept;

  /// Returns the counters. Any thread.
  [[nodiscard]] asio_network_stats stats() const noexcept;

  /// Returns the executor backed by the network thread. Any thread.
  [[nodiscard]] executor& loop() noexcept override;
  [[nodiscard]] bool real_processes() const noexcept override { return true; }

  // -- lifecycle ----------------------------------------------------------------

  /// Starts the network thread. Succeeds at once if it already runs; fails
  /// with `error::transport_closed` after `stop()`, or with the system's error
  /// when no thread can be created. Thread safety: the controlling thread (not
  /// concurrently with `stop()`).
  [[nodiscard]] result<void> start();

  /// Closes every socket (peers see the connections end), drops pending
  /// timers, posted tasks and connects without running them, destroys every
  /// callback the network held (on the network thread; on the calling thread
  /// if it never started), and joins the thread. No callback runs after this
  /// returns. Idempotent. Thread safety: the controlling thread, never the
  /// network thread (it would wait for itself).
  void stop() noexcept;

  // -- network_provider -------------------------------------------------------

  /// See `network_provider::listen`; listeners have SO_REUSEADDR.
  [[nodiscard]] result<std::unique_ptr<listener>> listen(const network_address& address,
                                                         accept_handler on_accept) override;

  /// See `network_provider::connect`.
  void connect(const network_address& address, time_point deadline,
               connect_handler on_done) override;

private:
  explicit asio_network(std::shared_ptr<detail::asio_loop> loop) noexcept;

  std::shared_ptr<detail::asio_loop> loop_;
};

} // namespace grainflow
