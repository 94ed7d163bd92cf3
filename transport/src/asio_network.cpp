// The real network provider: the public face of asio_loop and the TCP pieces.

#include "grainflow/transport/asio_network.hpp"

#include <cassert>
#include <exception>
#include <system_error>
#include <utility>

#include "asio_connector.hpp"
#include "asio_listener.hpp"
#include "asio_loop.hpp"

namespace grainflow {

result<std::unique_ptr<asio_network>> asio_network::create(asio_network_config config) {
  if (config.read_buffer_size == 0)
    return failure(std::make_error_code(std::errc::invalid_argument));
  // io_context's constructor is the one place Asio reports a failure (no
  // epoll or eventfd descriptor left) by throwing; it stops here.
  try {
    return std::unique_ptr<asio_network>{
        new asio_network(std::make_shared<detail::asio_loop>(config))};
  } catch (const std::system_error& e) {
    return failure(detail::to_error_code(e.code()));
  } catch (const std::bad_alloc&) {
    return failure(std::make_error_code(std::errc::not_enough_memory));
  }
}

asio_network::asio_network(std::shared_ptr<detail::asio_loop> loop) noexcept
    : loop_(std::move(loop)) {}

asio_network::~asio_network() {
  stop();
}

const asio_network_config& asio_network::config() const noexcept {
  return loop_->config();
}

asio_network_stats asio_network::stats() const noexcept {
  return loop_->stats();
}

executor& asio_network::loop() noexcept {
  return *loop_;
}

result<void> asio_network::start() {
  return loop_->start();
}

void asio_network::stop() noexcept {
  loop_->stop();
}

result<std::unique_ptr<listener>> asio_network::listen(const network_address& address,
                                                       accept_handler on_accept) {
  return detail::listen_tcp(loop_, address, std::move(on_accept));
}

void asio_network::connect(const network_address& address, time_point deadline,
                           connect_handler on_done) {
  // Always through the executor, also from the network thread: on_done must
  // never run inside this call, and the socket belongs to the loop thread.
  // A raw pointer suffices: the task lives inside the loop it points to.
  loop_->post([loop = loop_.get(), address, deadline, on_done = std::move(on_done)]() mutable {
    detail::connect_tcp(*loop, address, deadline, std::move(on_done));
  });
}

} // namespace grainflow
