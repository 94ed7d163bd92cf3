// TCP listeners on Asio: accept until closed, pause on resource exhaustion.

#include "asio_listener.hpp"

#include <cassert>
#include <utility>

#include "asio_connection.hpp"
#include "grainflow/endpoints/error.hpp"

namespace grainflow::detail {

namespace {

/// Returns whether `ec` concerns only the one connection being accepted (the
/// client gave up during the handshake), so accepting the next is fine at
/// once. Anything else (no descriptors, no memory) would fail again at once:
/// the listener pauses instead of spinning on it.
bool affects_one_connection(const std::error_code& ec) noexcept {
  return ec == std::errc::connection_aborted || ec == std::errc::protocol_error ||
         ec == std::errc::operation_not_permitted || ec == std::errc::connection_reset;
}

/// The acceptor and the accept handler; kept alive by pending accepts.
class listener_state final : public loop_resource,
                             public std::enable_shared_from_this<listener_state> {
public:
  listener_state(asio_loop& loop, asio::ip::tcp::acceptor acceptor, network_address local,
                 accept_handler on_accept)
      : loop_(loop)
      , acceptor_(std::move(acceptor))
      , retry_timer_(loop.io())
      , local_(local)
      , on_accept_(std::move(on_accept)) {}

  ~listener_state() { loop_.remove_resource(this); }

  listener_state(const listener_state&) = delete;
  listener_state& operator=(const listener_state&) = delete;

  const network_address& local_address() const noexcept { return local_; }

  void accept_next() {
    acceptor_.async_accept(
        [self = shared_from_this()](const std::error_code& ec, asio::ip::tcp::socket socket) {
          self->on_accepted(ec, std::move(socket));
        });
  }

  void close() noexcept {
    if (closed_)
      return;
    closed_ = true;
    std::error_code ec;
    retry_timer_.cancel(); // cannot fail: timer-queue bookkeeping
    acceptor_.close(ec);   // the port is free even if close reports an error
    // Moved out before it dies: its destruction may destroy the facade, whose
    // close() must find this listener closed already.
    accept_handler on_accept = std::move(on_accept_);
  }

  void shut_down() noexcept override { close(); }

private:
  void on_accepted(const std::error_code& ec, asio::ip::tcp::socket socket) {
    if (closed_)
      return;
    if (ec) {
      asio_loop::count(loop_.counts().accept_errors);
      if (affects_one_connection(to_error_code(ec))) {
        accept_next();
        return;
      }
      retry_timer_.expires_after(loop_.config().accept_retry_delay);
      retry_timer_.async_wait([self = shared_from_this()](const std::error_code& wait_ec) {
        if (!wait_ec && !self->closed_)
          self->accept_next();
      });
      return;
    }
    if (auto made = asio_connection_state::make(loop_, std::move(socket)); !made) {
      asio_loop::count(loop_.counts().accept_errors); // reset before we saw it
    } else {
      asio_loop::count(loop_.counts().connections_accepted);
      auto accepted =
          std::make_unique<asio_connection>(loop_.shared_from_this(), std::move(made).value());
      // Moved out for the call: the owner may close or destroy the listener
      // inside it.
      accept_handler callback = std::move(on_accept_);
      if (callback)
        callback(std::move(accepted));
      if (!closed_ && !on_accept_)
        on_accept_ = std::move(callback);
    }
    if (!closed_)
      accept_next();
  }

  asio_loop& loop_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  network_address local_;
  accept_handler on_accept_;
  bool closed_ = false;
};

/// What the owner holds.
class asio_listener final : public listener {
public:
  asio_listener(std::shared_ptr<asio_loop> loop, std::shared_ptr<listener_state> state) noexcept
      : loop_(std::move(loop))
      , state_(std::move(state)) {}

  ~asio_listener() override {
    assert(loop_->in_loop_context());
    state_->close();
  }

  network_address local_address() const noexcept override { return state_->local_address(); }

  void close() override {
    assert(loop_->in_loop_context());
    state_->close();
  }

private:
  // The state first, the loop (owner of the io_context) last.
  std::shared_ptr<asio_loop> loop_;
  std::shared_ptr<listener_state> state_;
};

} // namespace

result<std::unique_ptr<listener>> listen_tcp(const std::shared_ptr<asio_loop>& loop,
                                             const network_address& address,
                                             accept_handler on_accept) {
  assert(loop->in_loop_context());
  if (loop->stopped())
    return failure(make_error_code(error::transport_closed));
  if (!address.valid())
    return failure(std::make_error_code(std::errc::invalid_argument));
  const auto endpoint = to_endpoint(address);
  asio::ip::tcp::acceptor acceptor{loop->io()};
  std::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (ec)
    return failure(to_error_code(ec));
  // A restarted process must get its port back while connections of its
  // previous life linger in TIME_WAIT.
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec)
    return failure(to_error_code(ec));
  acceptor.bind(endpoint, ec);
  if (ec)
    return failure(to_error_code(ec));
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return failure(to_error_code(ec));
  const auto local = acceptor.local_endpoint(ec);
  if (ec)
    return failure(to_error_code(ec));
  auto state = std::make_shared<listener_state>(*loop, std::move(acceptor), to_address(local),
                                                std::move(on_accept));
  loop->add_resource(state);
  state->accept_next();
  return std::unique_ptr<listener>{std::make_unique<asio_listener>(loop, std::move(state))};
}

} // namespace grainflow::detail
