// Scenarios for chaos_proxy: a blocking echo client talks through the proxy
// to a blocking echo server, both on 127.0.0.1, every socket with a 5 s
// timeout so that a broken proxy fails a test instead of hanging it.

#include "support/chaos_proxy.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using grainflow::test::chaos_proxy;
using grainflow::test::chaos_schedule;
using grainflow::test::cut_direction;
using grainflow::test::cut_kind;
using grainflow::test::cut_plan;
using grainflow::test::cut_record;

// -- sockets ------------------------------------------------------------------

class socket_fd {
public:
  explicit socket_fd(int fd = -1) noexcept
      : fd_(fd) {}
  socket_fd(socket_fd&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)) {}
  socket_fd& operator=(socket_fd&&) = delete;
  ~socket_fd() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  [[nodiscard]] int get() const noexcept { return fd_; }

private:
  int fd_;
};

void set_timeouts(int fd) {
  const timeval five_seconds{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &five_seconds, sizeof five_seconds);
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

socket_fd connect_to(std::uint16_t port) {
  socket_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0)
    return s;
  set_timeouts(s.get());
  const int one = 1;
  ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const auto address = loopback(port);
  if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    return socket_fd{};
  return s;
}

/// A port on which nothing listens (bound, read, released).
std::uint16_t unused_port() {
  socket_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto address = loopback(0);
  socklen_t length = sizeof address;
  if (::bind(s.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return 0;
  return ntohs(address.sin_port);
}

/// Byte `position` of every test stream: a lost, repeated or reordered chunk
/// shows up as a mismatch.
char pattern(std::uint64_t position) {
  return static_cast<char>((position * 131 + (position >> 9)) & 0xFF);
}

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// -- the echo server ----------------------------------------------------------

/// Echoes every connection on a thread of its own and records how many bytes
/// each one read before it ended.
class echo_server {
public:
  echo_server()
      : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    auto address = loopback(0);
    socklen_t length = sizeof address;
    if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_.get(), 64) != 0 ||
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
      return;
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~echo_server() {
    // Wakes accept() with EINVAL (Linux).
    ::shutdown(listener_.get(), SHUT_RDWR);
    if (acceptor_.joinable())
      acceptor_.join();
    for (auto& handler : handlers_)
      handler.join();
  }

  [[nodiscard]] std::uint16_t port() const { return port_; }

  /// Bytes that connection `index` (in accept order) read, once it ended.
  std::optional<std::uint64_t> received(std::size_t index, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const bool done = ended_.wait_for(
        lock, timeout, [&] { return index < received_.size() && received_[index].has_value(); });
    return done ? received_[index] : std::nullopt;
  }

private:
  void accept_loop() {
    for (;;) {
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
        continue;
      if (fd < 0)
        return;
      set_timeouts(fd);
      std::size_t index = 0;
      {
        std::lock_guard lock(mutex_);
        index = received_.size();
        received_.emplace_back();
      }
      handlers_.emplace_back([this, fd, index] { serve(socket_fd(fd), index); });
    }
  }

  void serve(socket_fd connection, std::size_t index) {
    std::array<char, 16 * 1024> buffer{};
    std::uint64_t total = 0;
    for (;;) {
      const ssize_t n = ::recv(connection.get(), buffer.data(), buffer.size(), 0);
      if (n <= 0)
        break;
      total += static_cast<std::uint64_t>(n);
      if (!send_all(connection.get(), buffer.data(), static_cast<std::size_t>(n)))
        break;
    }
    std::lock_guard lock(mutex_);
    received_[index] = total;
    ended_.notify_all();
  }

  socket_fd listener_;
  std::uint16_t port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> handlers_; // the acceptor's until it is joined
  std::mutex mutex_;
  std::condition_variable ended_;
  std::vector<std::optional<std::uint64_t>> received_; // guarded by mutex_
};

// -- the echo client ----------------------------------------------------------

enum class ending { complete, eof, reset, failed };

const char* to_string(ending e) {
  switch (e) {
  case ending::complete:
    return "complete";
  case ending::eof:
    return "eof";
  case ending::reset:
    return "reset";
  case ending::failed:
    return "failed";
  }
  return "?";
}

struct exchange_result {
  ending how = ending::failed;
  std::uint64_t received = 0; // echoed bytes read back
  int error = 0;
  bool intact = true; // every byte read back was the one sent
};

/// Sends `total` pattern bytes in `chunk`-sized pieces, reading each echo
/// back before the next, then half-closes and expects EOF. Stops at the first
/// EOF or error: a reset shows as ECONNRESET (or EPIPE), a fin as EOF.
exchange_result ping_pong(std::uint16_t port, std::size_t total, std::size_t chunk = 4096) {
  exchange_result result;
  const socket_fd s = connect_to(port);
  if (s.get() < 0) {
    result.error = errno;
    return result;
  }
  const auto stop = [&](int error) {
    result.error = error;
    result.how = error == 0                              ? ending::eof
                 : error == ECONNRESET || error == EPIPE ? ending::reset
                                                         : ending::failed;
    return result;
  };
  std::vector<char> out(chunk);
  std::vector<char> in(chunk);
  std::uint64_t sent = 0;
  while (sent < total) {
    const std::size_t n = std::min<std::uint64_t>(chunk, total - sent);
    for (std::size_t i = 0; i < n; ++i)
      out[i] = pattern(sent + i);
    if (!send_all(s.get(), out.data(), n))
      return stop(errno);
    sent += n;
    while (result.received < sent) {
      const ssize_t r =
          ::recv(s.get(), in.data(), std::min<std::uint64_t>(in.size(), sent - result.received), 0);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return stop(r == 0 ? 0 : errno);
      for (ssize_t i = 0; i < r; ++i)
        result.intact =
            result.intact && in[static_cast<std::size_t>(i)] ==
                                 pattern(result.received + static_cast<std::uint64_t>(i));
      result.received += static_cast<std::uint64_t>(r);
    }
  }
  ::shutdown(s.get(), SHUT_WR);
  char byte = 0;
  const ssize_t r = ::recv(s.get(), &byte, 1, 0);
  if (r == 0) {
    result.how = ending::complete;
    return result;
  }
  return stop(r < 0 ? errno : EPROTO);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::unique_ptr<chaos_proxy> make_proxy(std::uint16_t target, const chaos_schedule& schedule) {
  std::string error;
  auto proxy = chaos_proxy::create(target, schedule, &error);
  EXPECT_NE(proxy, nullptr) << error;
  return proxy;
}

chaos_schedule no_cuts() {
  chaos_schedule schedule;
  schedule.max_cuts = 0;
  return schedule;
}

// -- passing through ----------------------------------------------------------

TEST(chaos_proxy, bytes_pass_unchanged_when_cutting_is_disabled) {
  echo_server server;
  auto proxy = make_proxy(server.port(), chaos_schedule{});
  ASSERT_NE(proxy, nullptr);
  proxy->set_enabled(false);
  EXPECT_FALSE(proxy->enabled());

  constexpr std::size_t clients = 4;
  constexpr std::size_t total = 256 * 1024;
  std::array<exchange_result, clients> results;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < clients; ++i) {
    // Chunks larger than the proxy's buffer, and small ones.
    threads.emplace_back(
        [&, i] { results[i] = ping_pong(proxy->port(), total, i % 2 == 0 ? 64 * 1024 : 1000); });
  }
  for (auto& t : threads)
    t.join();

  for (const auto& r : results) {
    EXPECT_EQ(r.how, ending::complete) << to_string(r.how) << " errno " << r.error;
    EXPECT_EQ(r.received, total);
    EXPECT_TRUE(r.intact);
  }
  for (std::size_t i = 0; i < clients; ++i)
    EXPECT_EQ(server.received(i, 5s), total);
  EXPECT_EQ(proxy->connections(), clients);
  EXPECT_EQ(proxy->cuts(), 0U);
  EXPECT_TRUE(proxy->cut_log().empty());
  EXPECT_TRUE(eventually([&] { return proxy->bytes_forwarded() == 2 * clients * total; }))
      << proxy->bytes_forwarded();
}

TEST(chaos_proxy, chunk_delays_keep_the_bytes_in_order) {
  echo_server server;
  auto schedule = no_cuts();
  schedule.max_chunk_delay = 3ms;
  auto proxy = make_proxy(server.port(), schedule);
  ASSERT_NE(proxy, nullptr);
  const auto r = ping_pong(proxy->port(), 64 * 1024, 1500);
  EXPECT_EQ(r.how, ending::complete) << to_string(r.how);
  EXPECT_TRUE(r.intact);
}

// -- cutting ------------------------------------------------------------------

struct cut_run {
  std::vector<exchange_result> clients;
  std::vector<std::optional<std::uint64_t>> server_received;
  std::vector<cut_record> log;
};

/// `connections` clients, one after the other, each sending more than the
/// largest cut offset, so every connection gets cut.
cut_run run_cuts(const chaos_schedule& schedule, std::size_t connections) {
  cut_run run;
  echo_server server;
  auto proxy = make_proxy(server.port(), schedule);
  if (proxy == nullptr)
    return run;
  for (std::size_t i = 0; i < connections; ++i) {
    run.clients.push_back(ping_pong(proxy->port(), 2 * schedule.max_bytes_before_cut + 8192));
    run.server_received.push_back(server.received(i, 5s));
  }
  EXPECT_TRUE(eventually([&] { return proxy->cuts() == connections; })) << proxy->cuts();
  run.log = proxy->cut_log();
  return run;
}

chaos_schedule cutting_schedule(std::uint64_t seed) {
  chaos_schedule schedule;
  schedule.seed = seed;
  schedule.min_bytes_before_cut = 1000;
  schedule.max_bytes_before_cut = 40000;
  schedule.reset_probability = 0.5;
  return schedule;
}

TEST(chaos_proxy, cuts_each_connection_at_its_planned_offset_with_rst_or_fin) {
  const auto schedule = cutting_schedule(42);
  constexpr std::size_t connections = 24;
  const auto run = run_cuts(schedule, connections);
  ASSERT_EQ(run.log.size(), connections);

  std::size_t resets = 0;
  std::size_t fins = 0;
  for (std::size_t i = 0; i < connections; ++i) {
    SCOPED_TRACE("connection " + std::to_string(i));
    const auto& record = run.log[i];
    const auto& client = run.clients[i];
    ASSERT_EQ(record.connection, i);
    EXPECT_EQ(record.plan, chaos_proxy::plan_for(schedule, i));
    EXPECT_GE(record.plan.offset, schedule.min_bytes_before_cut);
    EXPECT_LE(record.plan.offset, schedule.max_bytes_before_cut);
    EXPECT_TRUE(client.intact);
    ASSERT_TRUE(run.server_received[i].has_value());
    const std::uint64_t server_received = *run.server_received[i];
    // The cut direction carries at most `offset` bytes, and exactly that
    // many when the cut is a FIN (nothing is lost before an EOF).
    const std::uint64_t carried = record.plan.direction == cut_direction::client_to_server
                                      ? server_received
                                      : client.received;
    EXPECT_LE(client.received, server_received);
    if (record.plan.kind == cut_kind::reset) {
      ++resets;
      EXPECT_EQ(client.how, ending::reset) << to_string(client.how) << " errno " << client.error;
      EXPECT_LE(carried, record.plan.offset);
    } else {
      ++fins;
      EXPECT_EQ(client.how, ending::eof) << to_string(client.how) << " errno " << client.error;
      EXPECT_EQ(carried, record.plan.offset);
    }
  }
  EXPECT_GT(resets, 0U);
  EXPECT_GT(fins, 0U);
}

TEST(chaos_proxy, the_same_seed_gives_the_same_cuts) {
  const auto first = run_cuts(cutting_schedule(7), 8);
  const auto second = run_cuts(cutting_schedule(7), 8);
  const auto other = run_cuts(cutting_schedule(8), 8);
  ASSERT_EQ(first.log.size(), 8U);
  EXPECT_EQ(first.log, second.log);
  EXPECT_NE(first.log, other.log);
  // Byte counts after a reset depend on timing (an RST discards what is in
  // flight); how each connection ends does not.
  for (std::size_t i = 0; i < 8; ++i)
    EXPECT_EQ(first.clients[i].how, second.clients[i].how) << i;
}

TEST(chaos_proxy, plans_are_a_pure_function_of_seed_and_connection) {
  const auto schedule = cutting_schedule(3);
  std::array<std::size_t, 2> directions{};
  std::array<std::size_t, 2> kinds{};
  for (std::size_t i = 0; i < 64; ++i) {
    const auto plan = chaos_proxy::plan_for(schedule, i);
    EXPECT_EQ(plan, chaos_proxy::plan_for(schedule, i));
    EXPECT_GE(plan.offset, schedule.min_bytes_before_cut);
    EXPECT_LE(plan.offset, schedule.max_bytes_before_cut);
    ++directions[static_cast<std::size_t>(plan.direction)];
    ++kinds[static_cast<std::size_t>(plan.kind)];
  }
  EXPECT_GT(directions[0], 0U);
  EXPECT_GT(directions[1], 0U);
  EXPECT_GT(kinds[0], 0U);
  EXPECT_GT(kinds[1], 0U);

  auto fixed = schedule;
  fixed.min_bytes_before_cut = fixed.max_bytes_before_cut = 500;
  fixed.reset_probability = 1.0;
  EXPECT_EQ(chaos_proxy::plan_for(fixed, 5).offset, 500U);
  EXPECT_EQ(chaos_proxy::plan_for(fixed, 5).kind, cut_kind::reset);
}

TEST(chaos_proxy, stops_cutting_after_max_cuts) {
  echo_server server;
  auto schedule = cutting_schedule(11);
  schedule.max_cuts = 2;
  auto proxy = make_proxy(server.port(), schedule);
  ASSERT_NE(proxy, nullptr);
  for (std::size_t i = 0; i < 5; ++i) {
    const auto r = ping_pong(proxy->port(), 100 * 1024);
    EXPECT_EQ(r.how == ending::complete, i >= 2) << i << ": " << to_string(r.how);
    EXPECT_TRUE(r.intact);
  }
  EXPECT_EQ(proxy->cuts(), 2U);
  EXPECT_EQ(proxy->connections(), 5U);
}

TEST(chaos_proxy, holds_the_next_connection_for_the_pause_after_a_cut) {
  echo_server server;
  auto schedule = cutting_schedule(5);
  schedule.min_bytes_before_cut = schedule.max_bytes_before_cut = 100;
  schedule.max_cuts = 1;
  schedule.pause_after_cut = 300ms;
  auto proxy = make_proxy(server.port(), schedule);
  ASSERT_NE(proxy, nullptr);
  EXPECT_NE(ping_pong(proxy->port(), 4096).how, ending::complete);
  const auto start = std::chrono::steady_clock::now();
  const auto r = ping_pong(proxy->port(), 4096);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.how, ending::complete) << to_string(r.how);
  // The pause runs from the cut, a little before the client noticed it.
  EXPECT_GE(elapsed, 200ms);
}

// -- abrupt peers and shutdown ------------------------------------------------

TEST(chaos_proxy, passes_a_client_reset_on_and_keeps_serving) {
  echo_server server;
  auto proxy = make_proxy(server.port(), no_cuts());
  ASSERT_NE(proxy, nullptr);
  {
    const socket_fd s = connect_to(proxy->port());
    ASSERT_GE(s.get(), 0);
    std::array<char, 1000> data{};
    ASSERT_TRUE(send_all(s.get(), data.data(), data.size()));
    std::size_t echoed = 0;
    while (echoed < data.size()) {
      const ssize_t n = ::recv(s.get(), data.data(), data.size() - echoed, 0);
      ASSERT_GT(n, 0);
      echoed += static_cast<std::size_t>(n);
    }
    const linger abort{1, 0};
    ::setsockopt(s.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  } // closed with an RST
  EXPECT_EQ(server.received(0, 5s), 1000U);
  const auto r = ping_pong(proxy->port(), 32 * 1024);
  EXPECT_EQ(r.how, ending::complete) << to_string(r.how);
  EXPECT_EQ(proxy->connections(), 2U);
}

TEST(chaos_proxy, resets_clients_when_the_target_is_down) {
  const std::uint16_t dead = unused_port();
  ASSERT_NE(dead, 0);
  auto proxy = make_proxy(dead, no_cuts());
  ASSERT_NE(proxy, nullptr);
  for (int i = 0; i < 3; ++i) {
    const auto r = ping_pong(proxy->port(), 1000);
    EXPECT_TRUE(r.how == ending::reset || r.how == ending::eof) << to_string(r.how);
  }
  EXPECT_EQ(proxy->connections(), 3U);
}

TEST(chaos_proxy, stop_closes_open_connections_and_the_listener) {
  echo_server server;
  auto proxy = make_proxy(server.port(), no_cuts());
  ASSERT_NE(proxy, nullptr);
  const std::uint16_t port = proxy->port();
  const socket_fd s = connect_to(port);
  ASSERT_GE(s.get(), 0);
  std::array<char, 100> data{};
  ASSERT_TRUE(send_all(s.get(), data.data(), data.size()));
  ASSERT_EQ(::recv(s.get(), data.data(), data.size(), MSG_WAITALL), 100);

  proxy->stop();
  proxy->stop(); // idempotent
  const ssize_t n = ::recv(s.get(), data.data(), data.size(), 0);
  const int error = errno;
  EXPECT_TRUE(n == 0 || (n < 0 && error == ECONNRESET)) << n << " errno " << error;
  EXPECT_LT(connect_to(port).get(), 0);
}

TEST(chaos_proxy, rejects_an_invalid_schedule) {
  chaos_schedule schedule;
  schedule.min_bytes_before_cut = 10;
  schedule.max_bytes_before_cut = 9;
  std::string error;
  EXPECT_EQ(chaos_proxy::create(1, schedule, &error), nullptr);
  EXPECT_NE(error.find("min_bytes_before_cut"), std::string::npos) << error;

  schedule = chaos_schedule{};
  schedule.reset_probability = 1.5;
  EXPECT_EQ(chaos_proxy::create(1, schedule, &error), nullptr);
  EXPECT_NE(error.find("reset_probability"), std::string::npos) << error;
}

} // namespace
