#pragma once

// Internal to transport/: a TCP connection on Asio. Two objects: the state,
// which Asio's pending operations keep alive (shared_ptr), and the facade the
// owner holds (unique_ptr<connection>), whose destruction detaches the owner
// while a graceful close may still finish in the background.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "asio_loop.hpp"
#include "grainflow/transport/network_provider.hpp"

namespace grainflow::detail {

/// The socket, the buffers and the callbacks of one connection. Loop context
/// only (see asio_loop).
///
/// States: open (reading if started, writing) → closing (owner called close():
/// flushing, then FIN, then discarding reads until the peer's FIN or the
/// linger time) → closed (socket closed, callbacks destroyed). A failure or
/// the peer's FIN goes from open straight to closed and reports on_closed.
class asio_connection_state final : public loop_resource,
                                    public std::enable_shared_from_this<asio_connection_state> {
public:
  /// Wraps a connected socket: sets TCP_NODELAY, records both addresses, and
  /// registers with `loop`. Fails when the socket is already unusable (the
  /// peer reset it between accept and now).
  static result<std::shared_ptr<asio_connection_state>> make(asio_loop& loop,
                                                             asio::ip::tcp::socket socket);

  asio_connection_state(asio_loop& loop, asio::ip::tcp::socket socket, network_address local,
                        network_address remote);
  ~asio_connection_state();

  asio_connection_state(const asio_connection_state&) = delete;
  asio_connection_state& operator=(const asio_connection_state&) = delete;

  // -- properties -------------------------------------------------------------

  const network_address& local_address() const noexcept { return local_; }
  const network_address& remote_address() const noexcept { return remote_; }
  std::size_t pending_write_bytes() const noexcept {
    if (state_ == state::closed)
      return 0; // inflight_ may still be held for an aborted write
    return queued_.size() + (inflight_.size() - inflight_offset_);
  }

  int native_handle() noexcept {
    return state_ == state::closed || !socket_.is_open() ? -1 : socket_.native_handle();
  }

  // -- the connection interface -------------------------------------------------

  void start(data_handler on_data, closed_handler on_closed);
  std::size_t write(std::span<const std::byte> bytes);
  void set_drained_handler(unique_function<void()> callback);
  void close();
  void abort();

  /// The facade is gone: close gracefully if still open. Never calls back.
  void detach();

  void shut_down() noexcept override;

private:
  enum class state : std::uint8_t { open, closing, closed };

  void read_some();
  void on_read(const std::error_code& ec, std::size_t n);
  void schedule_flush();
  void flush();
  void write_some();
  void on_write(const std::error_code& ec, std::size_t n);
  void drained();
  /// Graceful close, step 2: everything is sent; send FIN.
  void shutdown_send();
  /// open → closed because of the peer or an error; reports `reason`.
  void fail(std::error_code reason);
  /// Any state → closed, silently.
  void close_socket() noexcept;
  void release_handlers() noexcept;

  asio_loop& loop_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer linger_timer_;
  network_address local_;
  network_address remote_;
  state state_ = state::open;
  bool started_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool flush_scheduled_ = false;
  /// A failure that happened before start(), reported once start() ran.
  std::optional<std::error_code> unreported_failure_;

  std::unique_ptr<std::byte[]> read_buffer_;
  /// Bytes accepted by write() since the current system write began.
  std::vector<std::byte> queued_;
  /// Bytes of the current system write; [inflight_offset_, size) not yet sent.
  std::vector<std::byte> inflight_;
  std::size_t inflight_offset_ = 0;

  data_handler on_data_;
  closed_handler on_closed_;
  unique_function<void()> on_drained_;
};

/// What the owner holds: forwards to the state and detaches it on destruction.
class asio_connection final : public connection {
public:
  asio_connection(std::shared_ptr<asio_loop> loop,
                  std::shared_ptr<asio_connection_state> state) noexcept;
  ~asio_connection() override;

  network_address remote_address() const noexcept override;
  network_address local_address() const noexcept override;
  std::size_t pending_write_bytes() const noexcept override;
  int native_handle() const noexcept override;
  void start(data_handler on_data, closed_handler on_closed) override;
  std::size_t write(std::span<const std::byte> bytes) override;
  void on_drained(unique_function<void()> callback) override;
  void close() override;
  void abort() override;

private:
  // Order matters: the state is released first, the loop (whose io_context
  // the socket belongs to) last.
  std::shared_ptr<asio_loop> loop_;
  std::shared_ptr<asio_connection_state> state_;
};

} // namespace grainflow::detail
