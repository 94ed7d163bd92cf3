// A TCP connection on Asio: batched reads, coalesced writes, graceful and
// abortive close.

#include "asio_connection.hpp"

#include <cassert>
#include <utility>

namespace grainflow::detail {

namespace {

// A write buffer that grew past this during a burst is released once the
// connection drains, so one large transfer does not pin its peak memory.
constexpr std::size_t shrink_threshold = 1024 * 1024;

void release_if_large(std::vector<std::byte>& buffer) noexcept {
  if (buffer.capacity() > shrink_threshold)
    std::vector<std::byte>{}.swap(buffer);
}

} // namespace

// -- construction -------------------------------------------------------------

result<std::shared_ptr<asio_connection_state>>
asio_connection_state::make(asio_loop& loop, asio::ip::tcp::socket socket) {
  // On failure `socket` is destroyed here, which closes it.
  std::error_code ec;
  // The transport gathers its own writes; Nagle would only add latency.
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  if (ec)
    return failure(to_error_code(ec));
  const auto local = socket.local_endpoint(ec);
  if (ec)
    return failure(to_error_code(ec));
  const auto remote = socket.remote_endpoint(ec);
  if (ec)
    return failure(to_error_code(ec));
  auto state = std::make_shared<asio_connection_state>(loop, std::move(socket), to_address(local),
                                                       to_address(remote));
  loop.add_resource(state);
  return state;
}

asio_connection_state::asio_connection_state(asio_loop& loop, asio::ip::tcp::socket socket,
                                             network_address local, network_address remote)
    : loop_(loop)
    , socket_(std::move(socket))
    , linger_timer_(loop.io())
    , local_(local)
    , remote_(remote) {}

asio_connection_state::~asio_connection_state() {
  loop_.remove_resource(this);
}

// -- the connection interface -------------------------------------------------

void asio_connection_state::start(data_handler on_data, closed_handler on_closed) {
  assert(!started_ && "connection::start called twice");
  started_ = true;
  if (state_ == state::open) {
    on_data_ = std::move(on_data);
    on_closed_ = std::move(on_closed);
    if (!reading_)
      read_some();
    return;
  }
  if (unreported_failure_) {
    // Failed before the owner listened: report it, but not inside start(),
    // and not if the owner closes or drops the connection first.
    on_closed_ = std::move(on_closed);
    asio::post(loop_.io(), [self = shared_from_this(), reason = *unreported_failure_] {
      if (auto callback = std::move(self->on_closed_))
        callback(reason);
    });
    unreported_failure_.reset();
  }
}

std::size_t asio_connection_state::write(std::span<const std::byte> bytes) {
  if (state_ != state::open)
    return 0;
  if (!bytes.empty()) {
    queued_.insert(queued_.end(), bytes.begin(), bytes.end());
    schedule_flush();
  }
  return pending_write_bytes();
}

void asio_connection_state::set_drained_handler(unique_function<void()> callback) {
  if (state_ == state::open)
    on_drained_ = std::move(callback);
}

void asio_connection_state::close() {
  if (state_ != state::open) {
    release_handlers();
    return;
  }
  state_ = state::closing;
  release_handlers();
  // Bounds the whole graceful close: a peer that neither reads nor closes
  // gets a reset instead of holding the socket forever.
  linger_timer_.expires_after(loop_.config().close_linger);
  linger_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
    if (!ec && self->state_ == state::closing)
      self->abort();
  });
  // FIN only after the last queued byte; a write in progress sends it when done.
  if (!writing_ && !flush_scheduled_)
    shutdown_send();
  // Keep reading until the peer's FIN: closing a socket with unread input
  // makes the kernel send a reset, which can destroy the data just flushed
  // before the peer has read it.
  if (state_ == state::closing && !reading_)
    read_some();
}

void asio_connection_state::abort() {
  if (state_ != state::closed) {
    // Linger on with a zero timeout turns close() into a reset. Should the
    // option fail, a plain close is the best that is left.
    std::error_code ec;
    socket_.set_option(asio::socket_base::linger(true, 0), ec);
    close_socket();
  }
  release_handlers();
}

void asio_connection_state::detach() {
  if (state_ == state::open)
    close();
  release_handlers();
}

void asio_connection_state::shut_down() noexcept {
  unreported_failure_.reset();
  close_socket();
  release_handlers();
}

// -- reading ------------------------------------------------------------------

void asio_connection_state::read_some() {
  const std::size_t size = loop_.config().read_buffer_size;
  if (!read_buffer_)
    read_buffer_ = std::make_unique_for_overwrite<std::byte[]>(size);
  reading_ = true;
  socket_.async_read_some(asio::buffer(read_buffer_.get(), size),
                          [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
                            self->on_read(ec, n);
                          });
}

void asio_connection_state::on_read(const std::error_code& ec, std::size_t n) {
  reading_ = false;
  if (state_ == state::closed)
    return;
  if (ec) {
    if (state_ == state::closing)
      close_socket(); // the peer's FIN (or an error) ends a graceful close
    else
      fail(closed_reason(ec));
    return;
  }
  asio_loop::count(loop_.counts().read_calls);
  asio_loop::count(loop_.counts().bytes_read, n);
  if (state_ == state::open && on_data_) {
    // Moved out for the call: the owner may close or destroy the connection
    // inside it, which must not destroy the callable while it runs.
    data_handler callback = std::move(on_data_);
    callback(std::span<const std::byte>{read_buffer_.get(), n});
    if (state_ == state::open && !on_data_)
      on_data_ = std::move(callback);
  }
  // The callback may have started a read already (close() does).
  if (state_ != state::closed && !reading_)
    read_some();
}

// -- writing ------------------------------------------------------------------

void asio_connection_state::schedule_flush() {
  if (flush_scheduled_ || writing_)
    return;
  // Deferred to the end of the current turn, so that every write of this turn
  // leaves in the same system call.
  flush_scheduled_ = true;
  asio::post(loop_.io(), [self = shared_from_this()] {
    self->flush_scheduled_ = false;
    self->flush();
  });
}

void asio_connection_state::flush() {
  if (state_ == state::closed || writing_)
    return;
  if (queued_.empty()) {
    if (state_ == state::closing)
      shutdown_send();
    return;
  }
  inflight_.swap(queued_); // queued_ gets the old, empty, still allocated buffer
  inflight_offset_ = 0;
  writing_ = true;
  write_some();
}

void asio_connection_state::write_some() {
  asio_loop::count(loop_.counts().write_calls);
  socket_.async_write_some(
      asio::buffer(inflight_.data() + inflight_offset_, inflight_.size() - inflight_offset_),
      [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
        self->on_write(ec, n);
      });
}

void asio_connection_state::on_write(const std::error_code& ec, std::size_t n) {
  writing_ = false;
  if (state_ == state::closed) {
    inflight_ = {}; // kept while the operation could still read it
    return;
  }
  if (ec) {
    if (state_ == state::closing)
      close_socket();
    else
      fail(to_error_code(ec));
    return;
  }
  asio_loop::count(loop_.counts().bytes_written, n);
  inflight_offset_ += n;
  if (inflight_offset_ < inflight_.size()) {
    writing_ = true;
    write_some(); // a partial write: the socket buffer is full, go on when it drains
    return;
  }
  inflight_.clear();
  inflight_offset_ = 0;
  if (!queued_.empty()) {
    // Written meanwhile: all of it in the next call.
    inflight_.swap(queued_);
    writing_ = true;
    write_some();
    return;
  }
  if (state_ == state::closing) {
    shutdown_send();
    return;
  }
  drained();
}

void asio_connection_state::drained() {
  release_if_large(inflight_);
  release_if_large(queued_);
  if (!on_drained_)
    return;
  unique_function<void()> callback = std::move(on_drained_); // see on_read()
  callback();
  if (state_ == state::open && !on_drained_)
    on_drained_ = std::move(callback);
}

// -- closing ------------------------------------------------------------------

void asio_connection_state::shutdown_send() {
  std::error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_send, ec);
  if (ec) {
    close_socket(); // the peer is gone already; nothing left to be graceful about
    return;
  }
  if (!reading_)
    read_some(); // until the peer's FIN
}

void asio_connection_state::fail(std::error_code reason) {
  assert(state_ == state::open);
  closed_handler callback = std::move(on_closed_);
  close_socket();
  if (!started_) {
    unreported_failure_ = reason;
    return;
  }
  // Runs inside an Asio handler (a read or write completion), never inside an
  // owner's call; the handler's shared_ptr keeps *this alive meanwhile.
  if (callback)
    callback(reason);
}

void asio_connection_state::close_socket() noexcept {
  if (state_ == state::closed)
    return;
  state_ = state::closed;
  // Cancelling a timer cannot fail (bookkeeping in Asio's timer queue).
  linger_timer_.cancel();
  // close() releases the descriptor even when it reports an error, and
  // cancels pending operations (their handlers see operation_aborted).
  std::error_code ec;
  socket_.close(ec);
  queued_ = {};
  if (!writing_)
    inflight_ = {};
  inflight_offset_ = 0;
  release_handlers();
}

void asio_connection_state::release_handlers() noexcept {
  // Moved into locals first: destroying a callable may destroy the facade,
  // which comes back here; it must find the members already empty.
  data_handler on_data = std::move(on_data_);
  closed_handler on_closed = std::move(on_closed_);
  unique_function<void()> on_drained = std::move(on_drained_);
}

// -- the facade ---------------------------------------------------------------

asio_connection::asio_connection(std::shared_ptr<asio_loop> loop,
                                 std::shared_ptr<asio_connection_state> state) noexcept
    : loop_(std::move(loop))
    , state_(std::move(state)) {}

asio_connection::~asio_connection() {
  assert(loop_->in_loop_context());
  state_->detach();
}

network_address asio_connection::remote_address() const noexcept {
  return state_->remote_address();
}

network_address asio_connection::local_address() const noexcept {
  return state_->local_address();
}

std::size_t asio_connection::pending_write_bytes() const noexcept {
  assert(loop_->in_loop_context());
  return state_->pending_write_bytes();
}

int asio_connection::native_handle() const noexcept {
  assert(loop_->in_loop_context());
  return state_->native_handle();
}

void asio_connection::start(data_handler on_data, closed_handler on_closed) {
  assert(loop_->in_loop_context());
  state_->start(std::move(on_data), std::move(on_closed));
}

std::size_t asio_connection::write(std::span<const std::byte> bytes) {
  assert(loop_->in_loop_context());
  return state_->write(bytes);
}

void asio_connection::on_drained(unique_function<void()> callback) {
  assert(loop_->in_loop_context());
  state_->set_drained_handler(std::move(callback));
}

void asio_connection::close() {
  assert(loop_->in_loop_context());
  state_->close();
}

void asio_connection::abort() {
  assert(loop_->in_loop_context());
  state_->abort();
}

} // namespace grainflow::detail
