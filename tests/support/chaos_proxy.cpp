// The chaos proxy: one Asio loop on a thread of its own, one session per
// accepted connection, and a pump per direction in each session. Everything
// below chaos_proxy's member functions runs on that thread only, so sessions
// need no locks; the counters the tests read are atomics.

#include "support/chaos_proxy.hpp"

#include <array>
#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include <asio.hpp>

namespace grainflow::test {

namespace {

using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

/// splitmix64 (Steele, Lea and Flood): its output depends on the seed alone,
/// unlike the standard distributions, whose results differ between standard
/// libraries — a seed must replay the same cuts everywhere.
class split_mix {
public:
  explicit split_mix(std::uint64_t state) noexcept
      : state_(state) {}

  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// Uniform in [lo, hi]; the modulo bias is negligible for test-sized spans.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept {
    const std::uint64_t span = hi - lo;
    if (span == UINT64_MAX)
      return next();
    return lo + next() % (span + 1);
  }

  /// Uniform in [0, 1).
  double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
  std::uint64_t state_;
};

/// The generator of connection `connection`: plan_for's draws come first, the
/// chunk delays after, so delays never shift a plan.
split_mix connection_rng(std::uint64_t seed, std::size_t connection) noexcept {
  split_mix scramble(seed ^ (static_cast<std::uint64_t>(connection) * 0xD1B54A32D192ED03ULL));
  return split_mix(scramble.next());
}

cut_plan draw_plan(const chaos_schedule& schedule, split_mix& rng) noexcept {
  cut_plan plan;
  plan.direction =
      (rng.next() & 1U) != 0 ? cut_direction::server_to_client : cut_direction::client_to_server;
  plan.offset = rng.between(schedule.min_bytes_before_cut, schedule.max_bytes_before_cut);
  plan.kind = rng.unit() < schedule.reset_probability ? cut_kind::reset : cut_kind::fin;
  return plan;
}

bool fail(std::string* error, std::string message) {
  if (error != nullptr)
    *error = std::move(message);
  return false;
}

} // namespace

namespace detail {

class chaos_session;

/// The proxy's state behind the pimpl. Fields marked "loop" belong to the
/// proxy thread (and, after it is joined, to the thread that joined it).
class chaos_proxy_state {
public:
  chaos_proxy_state(std::uint16_t target_port, const chaos_schedule& schedule)
      : target(asio::ip::address_v4::loopback(), target_port)
      , schedule(schedule) {}

  bool open(std::string* error);
  void accept();
  void run() noexcept;
  void close_all();

  // Declared first so that it is destroyed last: pending handlers own
  // sessions, and sessions own sockets of this context.
  asio::io_context io{1};
  tcp::acceptor acceptor{io};          // loop
  asio::steady_timer accept_retry{io}; // loop
  const tcp::endpoint target;
  const chaos_schedule schedule;
  std::uint16_t port = 0; // written before the thread starts

  std::atomic<bool> enabled{true};
  std::atomic<std::size_t> cuts{0};
  std::atomic<std::size_t> connections{0};
  std::atomic<std::uint64_t> bytes{0};

  mutable std::mutex log_mutex;
  std::vector<cut_record> log; // guarded by log_mutex

  std::size_t granted_cuts = 0;                                      // loop
  clock_type::time_point resume_at{};                                // loop
  std::map<std::size_t, std::weak_ptr<chaos_session>> open_sessions; // loop

  std::thread thread;
  std::mutex stop_mutex;
  bool stopped = false; // guarded by stop_mutex
};

/// One accepted connection and its connection to the target.
class chaos_session : public std::enable_shared_from_this<chaos_session> {
public:
  chaos_session(chaos_proxy_state& owner, std::size_t index, tcp::socket client)
      : owner_(owner)
      , index_(index)
      , rng_(connection_rng(owner.schedule.seed, index))
      , plan_(draw_plan(owner.schedule, rng_))
      , client_(std::move(client))
      , server_(owner.io)
      , timer_(owner.io)
      , upstream_(client_, server_, cut_direction::client_to_server, owner.io)
      , downstream_(server_, client_, cut_direction::server_to_client, owner.io) {}

  void start();

  /// Closes both sockets; `reset` makes the close an RST (SO_LINGER 0).
  void close(bool reset);

private:
  enum class phase { connecting, forwarding, draining, closed };

  /// One direction: reads from `from`, writes to `to`, one chunk at a time,
  /// which keeps the bytes in order and bounds the memory to one buffer.
  struct pump {
    pump(tcp::socket& from, tcp::socket& to, cut_direction direction, asio::io_context& io)
        : from(from)
        , to(to)
        , direction(direction)
        , delay(io) {}

    tcp::socket& from;
    tcp::socket& to;
    const cut_direction direction;
    asio::steady_timer delay;
    std::uint64_t forwarded = 0;
    bool source_done = false; // `from` reported EOF or an error
    std::array<char, 16 * 1024> buffer{};
  };

  void connect();
  void read(pump& p);
  void on_read(pump& p, std::error_code ec, std::size_t n);
  void forward(pump& p, std::size_t count, bool cut_after);
  void on_written(pump& p, std::error_code ec, std::size_t written, bool cut_after);
  bool cut_due(const pump& p, std::size_t n);
  void cut(pump& p);
  void close_if_drained();
  std::chrono::milliseconds draw_delay();

  chaos_proxy_state& owner_;
  const std::size_t index_;
  split_mix rng_;
  const cut_plan plan_;
  tcp::socket client_;
  tcp::socket server_;
  asio::steady_timer timer_; // the pause before connecting, then the fin drain
  pump upstream_;
  pump downstream_;
  phase phase_ = phase::connecting;
  bool cut_decided_ = false;
};

// -- chaos_session ------------------------------------------------------------

void chaos_session::start() {
  if (owner_.resume_at <= clock_type::now()) {
    connect();
    return;
  }
  timer_.expires_at(owner_.resume_at);
  timer_.async_wait([self = shared_from_this()](std::error_code) {
    if (self->phase_ == phase::connecting)
      self->connect();
  });
}

void chaos_session::connect() {
  server_.async_connect(owner_.target, [self = shared_from_this()](std::error_code ec) {
    if (self->phase_ != phase::connecting)
      return;
    if (ec) {
      // The target is down: the client gets the reset a dead node would give.
      self->close(true);
      return;
    }
    std::error_code ignored;
    self->client_.set_option(tcp::no_delay(true), ignored);
    self->server_.set_option(tcp::no_delay(true), ignored);
    self->phase_ = phase::forwarding;
    self->read(self->upstream_);
    self->read(self->downstream_);
  });
}

void chaos_session::read(pump& p) {
  p.from.async_read_some(asio::buffer(p.buffer),
                         [self = shared_from_this(), &p](std::error_code ec, std::size_t n) {
                           self->on_read(p, ec, n);
                         });
}

void chaos_session::on_read(pump& p, std::error_code ec, std::size_t n) {
  if (phase_ == phase::closed)
    return;
  if (phase_ == phase::draining) {
    if (!ec) {
      read(p); // discard and keep draining
      return;
    }
    p.source_done = true;
    close_if_drained();
    return;
  }
  if (ec == asio::error::eof) {
    // A half-close: pass the FIN on, the other direction keeps flowing.
    p.source_done = true;
    std::error_code ignored;
    p.to.shutdown(tcp::socket::shutdown_send, ignored);
    if (upstream_.source_done && downstream_.source_done)
      close(false);
    return;
  }
  if (ec) {
    // A reset (or worse) from one peer becomes a reset for the other.
    close(true);
    return;
  }
  const bool cut_after = cut_due(p, n);
  const std::size_t count = cut_after ? static_cast<std::size_t>(plan_.offset - p.forwarded) : n;
  const auto delay = draw_delay();
  if (delay.count() == 0) {
    forward(p, count, cut_after);
    return;
  }
  p.delay.expires_after(delay);
  p.delay.async_wait([self = shared_from_this(), &p, count, cut_after](std::error_code) {
    if (self->phase_ == phase::forwarding)
      self->forward(p, count, cut_after);
    else if (self->phase_ == phase::draining)
      self->read(p); // the chunk is dropped, as a cut drops it
  });
}

void chaos_session::forward(pump& p, std::size_t count, bool cut_after) {
  if (count == 0) {
    on_written(p, {}, 0, cut_after);
    return;
  }
  asio::async_write(
      p.to, asio::buffer(p.buffer.data(), count),
      [self = shared_from_this(), &p, cut_after](std::error_code ec, std::size_t written) {
        self->on_written(p, ec, written, cut_after);
      });
}

void chaos_session::on_written(pump& p, std::error_code ec, std::size_t written, bool cut_after) {
  p.forwarded += written;
  owner_.bytes.fetch_add(written, std::memory_order_relaxed);
  if (phase_ == phase::closed)
    return;
  if (phase_ == phase::draining) {
    read(p); // the write may have failed on the shut-down socket: expected
    return;
  }
  if (ec) {
    close(true);
    return;
  }
  if (cut_after)
    cut(p);
  else
    read(p);
}

// Decides, when a chunk arrives, whether it crosses this connection's cut
// point, and takes a cut from the budget if so. A cut point passed while
// cutting was disabled is not revisited.
bool chaos_session::cut_due(const pump& p, std::size_t n) {
  if (cut_decided_ || p.direction != plan_.direction)
    return false;
  if (p.forwarded > plan_.offset || p.forwarded + n <= plan_.offset)
    return false;
  if (!owner_.enabled.load() || owner_.granted_cuts >= owner_.schedule.max_cuts)
    return false;
  ++owner_.granted_cuts;
  cut_decided_ = true;
  return true;
}

void chaos_session::cut(pump& p) {
  {
    // Logged before counted, so that a test that sees cuts() == n finds n
    // records.
    std::lock_guard lock(owner_.log_mutex);
    owner_.log.push_back(cut_record{index_, plan_});
  }
  owner_.cuts.fetch_add(1);
  owner_.resume_at = clock_type::now() + owner_.schedule.pause_after_cut;
  if (plan_.kind == cut_kind::reset) {
    close(true);
    return;
  }
  phase_ = phase::draining;
  std::error_code ignored;
  client_.shutdown(tcp::socket::shutdown_send, ignored);
  server_.shutdown(tcp::socket::shutdown_send, ignored);
  timer_.expires_after(chaos_proxy::fin_drain_timeout);
  timer_.async_wait([self = shared_from_this()](std::error_code) { self->close(false); });
  // `p` drains from here; the other pump is mid-read, mid-write or mid-delay
  // and turns to draining when that completes.
  read(p);
  close_if_drained();
}

void chaos_session::close_if_drained() {
  if (upstream_.source_done && downstream_.source_done)
    close(false);
}

void chaos_session::close(bool reset) {
  if (phase_ == phase::closed)
    return;
  phase_ = phase::closed;
  std::error_code ignored;
  if (reset) {
    client_.set_option(asio::socket_base::linger(true, 0), ignored);
    server_.set_option(asio::socket_base::linger(true, 0), ignored);
  }
  client_.close(ignored);
  server_.close(ignored);
  timer_.cancel();
  upstream_.delay.cancel();
  downstream_.delay.cancel();
  owner_.open_sessions.erase(index_);
}

std::chrono::milliseconds chaos_session::draw_delay() {
  const auto max = owner_.schedule.max_chunk_delay.count();
  if (max <= 0)
    return std::chrono::milliseconds{0};
  return std::chrono::milliseconds{static_cast<std::chrono::milliseconds::rep>(
      rng_.between(0, static_cast<std::uint64_t>(max)))};
}

// -- chaos_proxy_state --------------------------------------------------------

bool chaos_proxy_state::open(std::string* error) {
  const tcp::endpoint local(asio::ip::address_v4::loopback(), 0);
  std::error_code ec;
  const auto check = [&](const char* what) {
    return !ec || fail(error, std::string("chaos_proxy: ") + what + ": " + ec.message());
  };
  acceptor.open(local.protocol(), ec);
  if (!check("open"))
    return false;
  acceptor.bind(local, ec);
  if (!check("bind 127.0.0.1:0"))
    return false;
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!check("listen"))
    return false;
  port = acceptor.local_endpoint(ec).port();
  return check("local_endpoint");
}

void chaos_proxy_state::accept() {
  acceptor.async_accept([this](std::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open())
      return;
    if (ec == asio::error::connection_aborted) {
      accept(); // the client gave up before we got to it
      return;
    }
    if (ec) {
      // Out of descriptors or memory: retry soon instead of spinning.
      accept_retry.expires_after(std::chrono::milliseconds{10});
      accept_retry.async_wait([this](std::error_code retry_ec) {
        if (!retry_ec && acceptor.is_open())
          accept();
      });
      return;
    }
    const std::size_t index = connections.fetch_add(1);
    auto session = std::make_shared<chaos_session>(*this, index, std::move(socket));
    open_sessions.emplace(index, session);
    session->start();
    accept();
  });
}

void chaos_proxy_state::run() noexcept {
  for (;;) {
    try {
      io.run();
      return;
    } catch (...) {
      // A handler ran out of memory: keep serving the other connections
      // rather than take the test process down.
    }
  }
}

void chaos_proxy_state::close_all() {
  std::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  // Taken out first: close() erases from open_sessions.
  auto sessions = std::exchange(open_sessions, {});
  for (auto& entry : sessions) {
    if (auto session = entry.second.lock())
      session->close(true);
  }
}

} // namespace detail

// -- chaos_proxy --------------------------------------------------------------

chaos_proxy::chaos_proxy(std::unique_ptr<detail::chaos_proxy_state> state) noexcept
    : state_(std::move(state)) {}

chaos_proxy::~chaos_proxy() {
  stop();
}

std::unique_ptr<chaos_proxy> chaos_proxy::create(std::uint16_t target_port, chaos_schedule schedule,
                                                 std::string* error) {
  if (schedule.min_bytes_before_cut > schedule.max_bytes_before_cut) {
    fail(error, "chaos_proxy: min_bytes_before_cut > max_bytes_before_cut");
    return nullptr;
  }
  if (!(schedule.reset_probability >= 0.0 && schedule.reset_probability <= 1.0)) {
    fail(error, "chaos_proxy: reset_probability outside [0, 1]");
    return nullptr;
  }
  if (schedule.pause_after_cut.count() < 0 || schedule.max_chunk_delay.count() < 0) {
    fail(error, "chaos_proxy: negative pause_after_cut or max_chunk_delay");
    return nullptr;
  }
  try {
    auto state = std::make_unique<detail::chaos_proxy_state>(target_port, schedule);
    if (!state->open(error))
      return nullptr;
    state->accept();
    std::unique_ptr<chaos_proxy> proxy(new chaos_proxy(std::move(state)));
    // Started last: if this throws, the destructor finds no thread to join.
    auto& s = *proxy->state_;
    s.thread = std::thread([&s] { s.run(); });
    return proxy;
  } catch (const std::exception& e) {
    fail(error, std::string("chaos_proxy: ") + e.what());
    return nullptr;
  }
}

cut_plan chaos_proxy::plan_for(const chaos_schedule& schedule, std::size_t connection) noexcept {
  auto rng = connection_rng(schedule.seed, connection);
  return draw_plan(schedule, rng);
}

std::uint16_t chaos_proxy::port() const noexcept {
  return state_->port;
}

std::size_t chaos_proxy::cuts() const noexcept {
  return state_->cuts.load();
}

std::size_t chaos_proxy::connections() const noexcept {
  return state_->connections.load();
}

std::uint64_t chaos_proxy::bytes_forwarded() const noexcept {
  return state_->bytes.load();
}

std::vector<cut_record> chaos_proxy::cut_log() const {
  std::lock_guard lock(state_->log_mutex);
  return state_->log;
}

bool chaos_proxy::enabled() const noexcept {
  return state_->enabled.load();
}

void chaos_proxy::set_enabled(bool cutting) noexcept {
  state_->enabled.store(cutting);
}

void chaos_proxy::stop() noexcept {
  auto& s = *state_;
  std::lock_guard lock(s.stop_mutex);
  if (s.stopped)
    return;
  s.stopped = true;
  if (s.thread.joinable()) {
    try {
      asio::post(s.io, [&s] {
        s.close_all();
        s.io.stop();
      });
    } catch (...) {
      s.io.stop(); // no memory for the handler: stop the loop bluntly
    }
    s.thread.join();
  }
  // Again from this thread, now that the loop is gone: covers a loop that
  // stopped before it got to the posted handler.
  try {
    s.close_all();
  } catch (...) {
    // Only cancel() can throw, on a broken epoll: nothing left to do.
  }
}

} // namespace grainflow::test
