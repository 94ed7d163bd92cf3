#pragma once

/// @file
/// The network provider: stream connections, listeners and dialing, behind an
/// interface that the real network (Asio) and the simulator both implement.

#include <cstddef>
#include <memory>
#include <span>
#include <system_error>

#include "grainflow/endpoints/network_address.hpp"
#include "grainflow/endpoints/result.hpp"
#include "grainflow/transport/executor.hpp"
#include "grainflow/transport/unique_function.hpp"

namespace grainflow {

class connection;

/// Receives the bytes of one read; the span is valid only during the call.
using data_handler = unique_function<void(std::span<const std::byte>)>;

/// Learns why a connection ended: an empty code for an orderly close by the
/// peer (FIN), otherwise the error (`std::errc::connection_reset` for RST).
using closed_handler = unique_function<void(std::error_code)>;

/// Receives each connection a listener accepted.
using accept_handler = unique_function<void(std::unique_ptr<connection>)>;

/// Receives the outcome of `network_provider::connect`.
using connect_handler = unique_function<void(result<std::unique_ptr<connection>>)>;

// -- connection ---------------------------------------------------------------

/// One established byte stream to another process: TCP today; a Unix socket or
/// a simulated link tomorrow. Made by a listener or by `connect`.
///
/// Thread safety: a connection belongs to its provider's executor. Every
/// member, the destructor included, must be called on the executor thread, or
/// on the one thread that controls the provider while the executor is not
/// running (before it started, after it stopped). Every callback runs on the
/// executor thread, never inside the call that set it or caused it.
///
/// Callbacks and lifetime: after `close()`, `abort()` or destruction the
/// connection calls none of its callbacks again and destroys them. A callback
/// may close, abort or destroy its own connection.
class connection {
public:
  /// Closes gracefully, as `close()`, if the connection is still open.
  virtual ~connection();

  // -- properties -------------------------------------------------------------

  /// Returns the other end's address, as it was when the connection was made.
  [[nodiscard]] virtual network_address remote_address() const noexcept = 0;

  /// Returns this end's address, as it was when the connection was made.
  [[nodiscard]] virtual network_address local_address() const noexcept = 0;

  /// Returns the bytes accepted by `write` and not yet handed to the operating
  /// system. Zero after the connection closed.
  [[nodiscard]] virtual std::size_t pending_write_bytes() const noexcept = 0;

  /// Returns the operating system's socket, or -1 when there is none (a
  /// simulated connection). Only for watching liveness: never read or write it.
  [[nodiscard]] virtual int native_handle() const noexcept { return -1; }

  // -- operations -------------------------------------------------------------

  /// Starts reading. `on_data` receives every chunk read, in order (reads are
  /// batched into one large buffer, so one call may carry many packets, or a
  /// part of one). `on_closed` runs once when the connection ended without the
  /// owner asking: the peer closed (empty code), reset it
  /// (`std::errc::connection_reset`) or an I/O error occurred (its code); no
  /// callback runs after it. The peer's FIN ends the whole connection (there
  /// are no half-open streams), and bytes still queued for sending are lost. If the connection
  /// failed before `start`, `on_closed` runs soon after. @pre Called at most once.
  virtual void start(data_handler on_data, closed_handler on_closed) = 0;

  /// Queues a copy of `bytes` for sending and returns `pending_write_bytes()`
  /// afterwards, which lets the caller apply backpressure (stop producing
  /// above a limit, resume in `on_drained`). Writes made in one executor turn
  /// leave in one system call where possible; order is preserved. Never
  /// blocks, never fails here: a failed connection reports through
  /// `on_closed`. After `close()`, `abort()` or a failure the bytes are
  /// dropped and 0 is returned.
  virtual std::size_t write(std::span<const std::byte> bytes) = 0;

  /// Sets the callback run each time `pending_write_bytes()` drops to zero
  /// after having been above it, replacing any earlier one. It may write.
  virtual void on_drained(unique_function<void()> callback) = 0;

  /// Closes gracefully: sends what is queued, then an orderly end of stream
  /// (FIN), and releases the socket once the peer closed too or a
  /// provider-defined linger time passed (then with a reset). Reads after this
  /// call are discarded. Idempotent; does nothing after `abort()`.
  virtual void close() = 0;

  /// Closes at once with a reset (RST): queued bytes are dropped and the peer
  /// sees `std::errc::connection_reset`. Idempotent; also ends a graceful close
  /// in progress.
  virtual void abort() = 0;
};

// -- listener -----------------------------------------------------------------

/// Accepts connections on one address until closed or destroyed.
///
/// Thread safety: as `connection` (executor thread, or the controlling thread
/// while the executor is not running).
class listener {
public:
  /// Closes, as `close()`.
  virtual ~listener();

  /// Returns the address listened on, with the real port when port 0 was asked.
  [[nodiscard]] virtual network_address local_address() const noexcept = 0;

  /// Stops accepting and releases the port; the accept handler is destroyed
  /// and never runs again. Connections accepted earlier stay open. Idempotent.
  virtual void close() = 0;
};

// -- network_provider ---------------------------------------------------------

/// Makes connections: the real network or the simulated one. Passed in to the
/// transport, never reached through a global, so tests and the simulator can
/// swap it.
class network_provider {
public:
  virtual ~network_provider();

  /// Returns the executor every callback of this provider runs on. Any thread.
  [[nodiscard]] virtual executor& loop() noexcept = 0;

  /// Whether peers reached through this provider may be real processes on
  /// this host, for which the transport may use shared memory. False for
  /// the simulator.
  [[nodiscard]] virtual bool real_processes() const noexcept { return false; }

  /// Listens on `address` (port 0 picks a free port: read it from the
  /// listener's `local_address()`). `on_accept` runs on the executor thread for
  /// each accepted connection, which it then owns (and must `start`). Fails
  /// with the system's error (`std::errc::address_in_use`, ...), or with
  /// `error::transport_closed` after the provider stopped.
  ///
  /// Thread safety: the executor thread, or the controlling thread while the
  /// executor is not running (the listener belongs to the executor).
  [[nodiscard]] virtual result<std::unique_ptr<listener>> listen(const network_address& address,
                                                                 accept_handler on_accept) = 0;

  /// Connects to `address`. `on_done` runs exactly once, on the executor
  /// thread and never inside this call, with the connection or the error:
  /// the system's (`std::errc::connection_refused`, `network_unreachable`,
  /// ...), or `error::timed_out` when `deadline` passed first (a deadline
  /// already past fails without trying). Exception: when the provider stops
  /// first, `on_done` is destroyed without running.
  ///
  /// Thread safety: any thread, concurrently.
  virtual void connect(const network_address& address, time_point deadline,
                       connect_handler on_done) = 0;
};

} // namespace grainflow
