// Dialing a TCP connection on Asio: the connect races a deadline timer; the
// first to finish decides the one callback.

#include "asio_connector.hpp"

#include <chrono>
#include <utility>

#include "asio_connection.hpp"
#include "grainflow/endpoints/error.hpp"

namespace grainflow::detail {

namespace {

/// One connect in flight: the socket, the deadline timer and the callback.
/// Kept alive by its pending operations.
class connect_attempt final : public loop_resource,
                              public std::enable_shared_from_this<connect_attempt> {
public:
  connect_attempt(asio_loop& loop, connect_handler on_done)
      : loop_(loop)
      , socket_(loop.io())
      , timer_(loop.io())
      , on_done_(std::move(on_done)) {}

  ~connect_attempt() { loop_.remove_resource(this); }

  connect_attempt(const connect_attempt&) = delete;
  connect_attempt& operator=(const connect_attempt&) = delete;

  void begin(const asio::ip::tcp::endpoint& endpoint, time_point deadline) {
    std::error_code ec;
    socket_.open(endpoint.protocol(), ec);
    if (ec) {
      done_ = true;
      finish(failure(to_error_code(ec)));
      return;
    }
    timer_.expires_at(deadline);
    timer_.async_wait([self = shared_from_this()](const std::error_code& wait_ec) {
      if (!wait_ec)
        self->on_deadline();
    });
    socket_.async_connect(endpoint, [self = shared_from_this()](const std::error_code& connect_ec) {
      self->on_connected(connect_ec);
    });
  }

  void shut_down() noexcept override {
    done_ = true;
    std::error_code ec;
    timer_.cancel(); // cannot fail: timer-queue bookkeeping
    socket_.close(ec);
    connect_handler dropped = std::move(on_done_); // never called: the loop stopped
  }

private:
  void on_connected(const std::error_code& ec) {
    if (done_)
      return; // the deadline won (this is the aborted connect), or shutdown
    done_ = true;
    timer_.cancel();
    if (ec) {
      finish(failure(to_error_code(ec)));
      return;
    }
    auto made = asio_connection_state::make(loop_, std::move(socket_));
    if (!made) {
      finish(failure(made.error()));
      return;
    }
    asio_loop::count(loop_.counts().connections_connected);
    finish(std::unique_ptr<connection>{
        std::make_unique<asio_connection>(loop_.shared_from_this(), std::move(made).value())});
  }

  void on_deadline() {
    if (done_)
      return;
    done_ = true;
    std::error_code ec;
    socket_.close(ec); // aborts the connect; its handler sees done_
    finish(failure(make_error_code(error::timed_out)));
  }

  void finish(result<std::unique_ptr<connection>> outcome) {
    if (!outcome)
      asio_loop::count(loop_.counts().connect_failures);
    if (connect_handler callback = std::move(on_done_))
      callback(std::move(outcome));
  }

  asio_loop& loop_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  connect_handler on_done_;
  bool done_ = false;
};

} // namespace

void connect_tcp(asio_loop& loop, const network_address& address, time_point deadline,
                 connect_handler on_done) {
  if (loop.stopped())
    return; // on_done is destroyed unrun, as stop() promises
  if (!address.valid()) {
    asio_loop::count(loop.counts().connect_failures);
    on_done(failure(std::make_error_code(std::errc::invalid_argument)));
    return;
  }
  if (deadline <= std::chrono::steady_clock::now()) {
    asio_loop::count(loop.counts().connect_failures);
    on_done(failure(make_error_code(error::timed_out)));
    return;
  }
  auto attempt = std::make_shared<connect_attempt>(loop, std::move(on_done));
  loop.add_resource(attempt);
  attempt->begin(to_endpoint(address), deadline);
}

} // namespace grainflow::detail
