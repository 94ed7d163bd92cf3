// Scenarios of the real network provider on loopback sockets (127.0.0.1,
// ephemeral ports): echo both ways, write coalescing, a large transfer under
// backpressure, orderly close and reset as the peer sees them, failed and
// timed-out connects, and a clean stop with live connections.

#include "grainflow/transport/asio_network.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "grainflow/endpoints/error.hpp"
#include "network_test_support.hpp"

namespace grainflow {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::now;
using test::on_loop;
using test::unaccepting_listener;
using test::wait_limit;

std::span<const std::byte> as_bytes(std::string_view text) {
  return std::as_bytes(std::span{text.data(), text.size()});
}

std::string as_text(const std::vector<std::byte>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// One end of a connection as a test sees it. Touched on the executor thread
/// only (or after the network stopped).
struct probe {
  /// Replaces collecting into `received` when set.
  using data_hook = std::function<void(probe&, std::span<const std::byte>)>;

  std::unique_ptr<connection> conn;
  std::vector<std::byte> received;
  std::optional<std::error_code> closed;
  int closed_calls = 0;
  data_hook on_data;

  void attach(std::unique_ptr<connection> c) {
    conn = std::move(c);
    conn->start(
        [this](std::span<const std::byte> data) {
          if (on_data)
            on_data(*this, data);
          else
            received.insert(received.end(), data.begin(), data.end());
        },
        [this](std::error_code ec) {
          closed = ec;
          ++closed_calls;
        });
  }
};

/// Collects, and writes everything back.
void echo(probe& p, std::span<const std::byte> data) {
  p.received.insert(p.received.end(), data.begin(), data.end());
  p.conn->write(data);
}

/// A listener whose accepted connections become probes, in order.
struct server {
  std::unique_ptr<listener> lst;
  network_address address;
  std::vector<std::unique_ptr<probe>> accepted; // executor thread only
  probe::data_hook on_data;                     // given to each accepted probe
};

class network_test : public ::testing::Test {
protected:
  void SetUp() override { net_ = make_started_network(); }

  // Connections and listeners are destroyed after this, on the test thread,
  // which the contract allows once the network stopped.
  void TearDown() override { net_->stop(); }

  static std::unique_ptr<asio_network> make_started_network() {
    auto created = asio_network::create();
    if (!created) {
      ADD_FAILURE() << created.error().message();
      std::abort();
    }
    auto net = std::move(created).value();
    EXPECT_TRUE(net->start());
    return net;
  }

  executor& loop() { return net_->loop(); }

  template <class F>
  bool eventually(F condition, std::chrono::milliseconds limit = 5000ms) {
    return test::eventually(loop(), std::move(condition), limit);
  }

  server& start_server(probe::data_hook on_data = {}) {
    auto& s = *servers_.emplace_back(std::make_unique<server>());
    s.on_data = std::move(on_data);
    on_loop(loop(), [&] {
      auto listening =
          net_->listen(network_address::loopback_v4(0), [&s](std::unique_ptr<connection> c) {
            auto p = std::make_unique<probe>();
            p->on_data = s.on_data;
            p->attach(std::move(c));
            s.accepted.push_back(std::move(p));
          });
      ASSERT_TRUE(listening) << listening.error().message();
      s.lst = std::move(listening).value();
      s.address = s.lst->local_address();
    });
    return s;
  }

  /// Connects a new probe to `to`; returns it, or null and the error.
  probe* connect_probe(const network_address& to, std::error_code* error = nullptr,
                       time_point deadline = now() + wait_limit, probe::data_hook on_data = {}) {
    auto& p = *clients_.emplace_back(std::make_unique<probe>());
    p.on_data = std::move(on_data);
    std::promise<std::error_code> done;
    net_->connect(to, deadline, [&p, &done](result<std::unique_ptr<connection>> r) {
      if (!r) {
        done.set_value(r.error());
        return;
      }
      p.attach(std::move(r).value());
      done.set_value({});
    });
    auto future = done.get_future();
    if (future.wait_for(wait_limit + 1s) != std::future_status::ready) {
      std::fprintf(stderr, "connect_probe: no callback\n");
      std::abort();
    }
    const std::error_code ec = future.get();
    if (error)
      *error = ec;
    return ec ? nullptr : &p;
  }

  /// A connected pair: the client and the server's end of it.
  std::pair<probe*, probe*> connect_pair(server& s, probe::data_hook client_on_data = {}) {
    const std::size_t before = on_loop(loop(), [&] { return s.accepted.size(); });
    probe* client =
        connect_probe(s.address, nullptr, now() + wait_limit, std::move(client_on_data));
    if (client == nullptr || !eventually([&] { return s.accepted.size() == before + 1; })) {
      ADD_FAILURE() << "no connection";
      std::abort();
    }
    probe* accepted = on_loop(loop(), [&] { return s.accepted.back().get(); });
    return {client, accepted};
  }

  std::unique_ptr<asio_network> net_;
  std::vector<std::unique_ptr<server>> servers_;
  std::vector<std::unique_ptr<probe>> clients_;
};

// -- listening and echo ---------------------------------------------------------

TEST_F(network_test, listening_on_port_zero_reports_the_port_the_system_chose) {
  auto& s = start_server();
  EXPECT_TRUE(s.address.is_v4());
  EXPECT_EQ(s.address.with_port(0), network_address::loopback_v4(0));
  EXPECT_NE(s.address.port(), 0);
}

TEST_F(network_test, listening_on_a_port_in_use_fails_with_the_systems_error) {
  auto& s = start_server();
  on_loop(loop(), [&] {
    auto second = net_->listen(s.address, [](std::unique_ptr<connection>) {});
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), std::errc::address_in_use) << second.error().message();
    auto invalid = net_->listen(network_address{}, [](std::unique_ptr<connection>) {});
    ASSERT_FALSE(invalid);
    EXPECT_EQ(invalid.error(), std::errc::invalid_argument);
  });
}

TEST_F(network_test, bytes_travel_both_ways_and_both_ends_know_their_addresses) {
  auto& s = start_server(echo);
  auto [client, accepted] = connect_pair(s);
  on_loop(loop(), [&] {
    accepted->conn->write(as_bytes("hello from server;"));
    client->conn->write(as_bytes("ping"));
  });
  ASSERT_TRUE(eventually([&] { return client->received.size() == 22; }));
  on_loop(loop(), [&] {
    EXPECT_EQ(as_text(client->received), "hello from server;ping");
    EXPECT_EQ(as_text(accepted->received), "ping");
    EXPECT_EQ(client->conn->remote_address(), s.address);
    EXPECT_EQ(accepted->conn->local_address(), s.address);
    EXPECT_EQ(accepted->conn->remote_address(), client->conn->local_address());
    EXPECT_FALSE(client->closed);
    EXPECT_FALSE(accepted->closed);
  });
  EXPECT_GE(net_->stats().connections_accepted, 1u);
  EXPECT_GE(net_->stats().connections_connected, 1u);
}

// -- writing --------------------------------------------------------------------

TEST_F(network_test, many_small_writes_in_one_turn_leave_in_one_system_call_in_order) {
  auto& s = start_server();
  auto [client, accepted] = connect_pair(s);
  constexpr std::uint64_t writes = 1000;
  const auto calls_before = net_->stats().write_calls;
  on_loop(loop(), [&] {
    std::size_t pending = 0;
    for (std::uint64_t i = 0; i < writes; ++i)
      pending = client->conn->write(std::as_bytes(std::span{&i, 1}));
    // Nothing leaves before the turn ends: all of it is still queued.
    EXPECT_EQ(pending, writes * sizeof(std::uint64_t));
    EXPECT_EQ(client->conn->pending_write_bytes(), pending);
  });
  ASSERT_TRUE(
      eventually([&] { return accepted->received.size() == writes * sizeof(std::uint64_t); }));
  EXPECT_EQ(net_->stats().write_calls - calls_before, 1u) << "8000 bytes fit one loopback write";
  on_loop(loop(), [&] {
    for (std::uint64_t i = 0; i < writes; ++i) {
      std::uint64_t got = 0;
      std::memcpy(&got, accepted->received.data() + i * sizeof got, sizeof got);
      ASSERT_EQ(got, i) << "out of order at write " << i;
    }
    EXPECT_EQ(client->conn->pending_write_bytes(), 0u);
  });
}

TEST_F(network_test, a_large_transfer_stays_under_the_senders_limit_and_arrives_intact) {
  constexpr std::size_t total = 64u << 20;
  constexpr std::size_t chunk = 64u << 10;
  constexpr std::size_t high_water = 1u << 20;
  constexpr std::size_t period = 251; // prime: never aligned with the chunks
  std::vector<std::byte> pattern(chunk + period);
  for (std::size_t i = 0; i < pattern.size(); ++i)
    pattern[i] = static_cast<std::byte>(i % period);

  // Receiver: checks each read against the pattern instead of keeping 64 MiB.
  std::size_t received = 0;
  bool intact = true;
  auto& s = start_server([&](probe&, std::span<const std::byte> data) {
    if (std::memcmp(data.data(), pattern.data() + received % period, data.size()) != 0)
      intact = false;
    received += data.size();
  });
  auto [client, accepted] = connect_pair(s);

  // Sender: writes while below the limit, resumes in on_drained.
  std::size_t sent = 0;
  std::size_t max_pending = 0;
  int drains = 0;
  std::function<void()> pump = [&] {
    while (sent < total && client->conn->pending_write_bytes() < high_water) {
      const std::size_t n = std::min(chunk, total - sent);
      max_pending = std::max(max_pending, client->conn->write({pattern.data() + sent % period, n}));
      sent += n;
    }
  };
  const auto started = now();
  on_loop(loop(), [&] {
    client->conn->on_drained([&] {
      ++drains;
      pump();
    });
    pump();
  });
  ASSERT_TRUE(eventually([&] { return received == total; }, 8000ms));
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now() - started);
  on_loop(loop(), [&] {
    EXPECT_TRUE(intact);
    EXPECT_EQ(sent, total);
    EXPECT_LE(max_pending, high_water + chunk);
    EXPECT_GT(drains, 0);
    EXPECT_EQ(client->conn->pending_write_bytes(), 0u);
    EXPECT_FALSE(accepted->closed);
  });
  std::printf("64 MiB in %lld ms\n", static_cast<long long>(elapsed.count()));
}

// -- closing --------------------------------------------------------------------

TEST_F(network_test, a_graceful_close_delivers_the_last_bytes_then_an_orderly_end) {
  auto& s = start_server();
  auto [client, accepted] = connect_pair(s);
  on_loop(loop(), [&] {
    client->conn->write(as_bytes("last words"));
    client->conn->close();
    EXPECT_EQ(client->conn->write(as_bytes("too late")), 0u);
    client->conn->close(); // idempotent
  });
  ASSERT_TRUE(eventually([&] { return accepted->closed.has_value(); }));
  on_loop(loop(), [&] {
    EXPECT_EQ(as_text(accepted->received), "last words");
    EXPECT_EQ(*accepted->closed, std::error_code{}) << accepted->closed->message();
    EXPECT_EQ(accepted->closed_calls, 1);
    EXPECT_EQ(accepted->conn->write(as_bytes("after the end")), 0u);
  });
  std::this_thread::sleep_for(20ms);
  on_loop(loop(), [&] { EXPECT_EQ(client->closed_calls, 0) << "no callbacks after close()"; });
}

TEST_F(network_test, abort_resets_the_connection_and_the_peer_sees_a_reset) {
  auto& s = start_server();
  auto [client, accepted] = connect_pair(s);
  on_loop(loop(), [&] {
    accepted->conn->write(as_bytes("dropped"));
    accepted->conn->abort();
    accepted->conn->abort(); // idempotent
    EXPECT_EQ(accepted->conn->pending_write_bytes(), 0u);
  });
  ASSERT_TRUE(eventually([&] { return client->closed.has_value(); }));
  on_loop(loop(), [&] {
    EXPECT_EQ(*client->closed, std::errc::connection_reset) << client->closed->message();
    EXPECT_EQ(client->closed_calls, 1);
    EXPECT_EQ(accepted->closed_calls, 0);
  });
}

TEST_F(network_test, writing_into_a_reset_connection_reports_the_end_once) {
  auto& s = start_server();
  auto [client, accepted] = connect_pair(s);
  on_loop(loop(), [&] { accepted->conn->abort(); });
  // Keep writing until the failure is noticed, by a read or by a write.
  const std::vector<std::byte> block(64 * 1024, std::byte{1});
  ASSERT_TRUE(eventually([&] {
    client->conn->write(block);
    return client->closed.has_value();
  }));
  std::this_thread::sleep_for(20ms);
  on_loop(loop(), [&] {
    EXPECT_EQ(client->closed_calls, 1);
    EXPECT_TRUE(*client->closed == std::errc::connection_reset ||
                *client->closed == std::errc::broken_pipe)
        << client->closed->message();
    EXPECT_EQ(client->conn->write(block), 0u);
    EXPECT_EQ(client->conn->pending_write_bytes(), 0u);
  });
}

TEST_F(network_test, a_connection_may_be_destroyed_inside_its_own_data_callback) {
  auto& s = start_server();
  bool destroyed_inside = false;
  auto [client, accepted] = connect_pair(s, [&](probe& p, std::span<const std::byte>) {
    p.conn.reset(); // the owner drops the connection from within its callback
    destroyed_inside = true;
  });
  on_loop(loop(), [&] { accepted->conn->write(as_bytes("goodbye")); });
  // Dropping closes gracefully: the server side sees an orderly end.
  ASSERT_TRUE(eventually([&] { return accepted->closed.has_value(); }));
  on_loop(loop(), [&] {
    EXPECT_TRUE(destroyed_inside);
    EXPECT_EQ(client->conn, nullptr);
    EXPECT_EQ(*accepted->closed, std::error_code{}) << accepted->closed->message();
    EXPECT_EQ(client->closed_calls, 0);
  });
}

TEST(network_close_linger, a_graceful_close_the_peer_never_answers_ends_after_the_linger) {
  asio_network_config config;
  config.close_linger = 50ms;
  auto net = std::move(asio_network::create(config)).value();
  ASSERT_TRUE(net->start());
  std::unique_ptr<listener> lst;
  std::vector<std::unique_ptr<connection>> accepted;
  const auto address = on_loop(net->loop(), [&] {
    auto l = net->listen(network_address::loopback_v4(0), [&](std::unique_ptr<connection> c) {
      c->close(); // FIN, then wait for the peer's FIN, at most the linger
      accepted.push_back(std::move(c));
    });
    EXPECT_TRUE(l);
    lst = std::move(l).value();
    return lst->local_address();
  });
  // A plain socket as the peer: it never closes. While the provider still
  // lingers, it reads (and discards) what the peer sends; once the linger
  // reset the socket, the peer's sends fail.
  const int peer = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(peer, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(address.port());
  ASSERT_EQ(::connect(peer, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  ASSERT_TRUE(eventually(net->loop(), [&] { return accepted.size() == 1; }));
  EXPECT_GT(::send(peer, "x", 1, MSG_NOSIGNAL), 0) << "still lingering: accepted";
  std::this_thread::sleep_for(150ms);
  bool refused = false;
  for (int i = 0; i < 3 && !refused; ++i) {
    refused = ::send(peer, "x", 1, MSG_NOSIGNAL) < 0;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(refused) << "the provider still holds the socket after the linger";
  ::close(peer);
  net->stop();
}

// -- connecting -----------------------------------------------------------------

TEST_F(network_test, connecting_to_a_closed_port_fails_with_connection_refused) {
  // A port that was just free: listen on an ephemeral one, then close it.
  const auto port = on_loop(loop(), [&] {
    auto l = net_->listen(network_address::loopback_v4(0), [](std::unique_ptr<connection>) {});
    EXPECT_TRUE(l);
    return l ? l.value()->local_address().port() : std::uint16_t{1};
  });
  std::error_code ec;
  EXPECT_EQ(connect_probe(network_address::loopback_v4(port), &ec), nullptr);
  EXPECT_EQ(ec, std::errc::connection_refused) << ec.message();
  // The system's category, not Asio's: registered, so it can cross the wire.
  EXPECT_EQ(&ec.category(), &std::system_category());
  EXPECT_GE(net_->stats().connect_failures, 1u);
}

TEST_F(network_test, a_connect_that_hangs_fails_with_timed_out_at_its_deadline) {
  unaccepting_listener hanging;
  // The first connections fill the queue (the kernel completes them without
  // accept); a later one hangs and must end at its deadline.
  std::error_code ec;
  std::chrono::steady_clock::duration took{};
  for (int attempt = 0; attempt < 8 && ec != error::timed_out; ++attempt) {
    const auto begun = now();
    connect_probe(hanging.address(), &ec, begun + 200ms);
    took = now() - begun;
  }
  ASSERT_EQ(ec, error::timed_out) << ec.message();
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 2s);
}

TEST_F(network_test, a_deadline_already_past_or_an_invalid_address_fails_without_trying) {
  auto& s = start_server();
  std::error_code ec;
  EXPECT_EQ(connect_probe(s.address, &ec, now() - 1ms), nullptr);
  EXPECT_EQ(ec, error::timed_out);
  EXPECT_EQ(connect_probe(network_address{}, &ec), nullptr);
  EXPECT_EQ(ec, std::errc::invalid_argument);
}

// -- stopping -------------------------------------------------------------------

TEST(network_lifecycle, stop_closes_live_connections_and_destroys_their_callbacks) {
  // `net` is stopped with a connection in full flow; `peer`, a second
  // network, watches the connection end from the other side.
  auto net = std::move(asio_network::create()).value();
  auto peer = std::move(asio_network::create()).value();
  ASSERT_TRUE(net->start());
  ASSERT_TRUE(peer->start());
  auto sentinel = std::make_shared<int>(0); // copied into every callback

  std::unique_ptr<listener> lst; // net's executor thread, or after stop
  std::vector<std::unique_ptr<connection>> accepted;
  const auto address = on_loop(net->loop(), [&] {
    auto l = net->listen(
        network_address::loopback_v4(0), [&accepted, sentinel](std::unique_ptr<connection> c) {
          c->start([sentinel](std::span<const std::byte>) {}, [sentinel](std::error_code) {});
          c->on_drained([sentinel] {});
          c->write(std::vector<std::byte>(4 << 20)); // still queued at stop
          accepted.push_back(std::move(c));
        });
    EXPECT_TRUE(l);
    lst = std::move(l).value();
    return lst->local_address();
  });
  // The peer connects and does not read yet: the server's 4 MiB stay queued.
  std::unique_ptr<connection> peer_conn; // peer's executor thread only
  std::optional<std::error_code> peer_closed;
  std::promise<void> connected;
  peer->connect(address, now() + wait_limit, [&](result<std::unique_ptr<connection>> r) {
    ASSERT_TRUE(r);
    peer_conn = std::move(r).value();
    connected.set_value();
  });
  ASSERT_EQ(connected.get_future().wait_for(wait_limit), std::future_status::ready);
  ASSERT_TRUE(eventually(net->loop(), [&] { return accepted.size() == 1; }));

  net->stop();
  EXPECT_EQ(sentinel.use_count(), 1) << "stop() destroyed every callback";

  // The peer sees the end (a reset here: the server had unsent data).
  on_loop(peer->loop(), [&] {
    peer_conn->start([](std::span<const std::byte>) {},
                     [&](std::error_code ec) { peer_closed = ec; });
  });
  EXPECT_TRUE(eventually(peer->loop(), [&] { return peer_closed.has_value(); }));
  peer->stop();

  // After stop the controlling thread may use and destroy what is left; it
  // is inert, and nothing new starts.
  EXPECT_EQ(accepted[0]->write(std::vector<std::byte>(8)), 0u);
  EXPECT_EQ(accepted[0]->pending_write_bytes(), 0u);
  accepted[0]->close();
  accepted.clear();
  lst.reset();
  auto late = net->listen(network_address::loopback_v4(0), [](std::unique_ptr<connection>) {});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), error::transport_closed);
}

TEST(network_lifecycle, stop_drops_pending_connects_timers_and_tasks_without_running_them) {
  auto net = std::move(asio_network::create()).value();
  ASSERT_TRUE(net->start());
  auto sentinel = std::make_shared<int>(0); // copied into every callback
  std::atomic<int> timers_run{0};
  unaccepting_listener hanging;
  for (int i = 0; i < 4; ++i) // the first fill its queue, the later ones hang
    net->connect(hanging.address(), now() + 1h, [sentinel](result<std::unique_ptr<connection>>) {});
  for (int i = 0; i < 3; ++i)
    net->loop().schedule_at(now() + 1h, [sentinel, &timers_run] { ++timers_run; });
  on_loop(net->loop(), [] {}); // the connects have started
  net->loop().post([sentinel] {});

  net->stop();
  EXPECT_EQ(timers_run.load(), 0);
  EXPECT_EQ(sentinel.use_count(), 1) << "stop() destroyed every callback";
  net->connect(hanging.address(), now() + 1s, [sentinel](result<std::unique_ptr<connection>>) {
    ADD_FAILURE() << "connect callback after stop";
  });
  EXPECT_EQ(sentinel.use_count(), 1) << "a connect after stop is dropped at once";
}

TEST(network_lifecycle, connections_may_outlive_the_network_object) {
  auto net = std::move(asio_network::create()).value();
  ASSERT_TRUE(net->start());
  std::unique_ptr<listener> lst;
  std::unique_ptr<connection> server_end;
  std::unique_ptr<connection> client_end;
  const auto address = on_loop(net->loop(), [&] {
    auto l = net->listen(network_address::loopback_v4(0),
                         [&](std::unique_ptr<connection> c) { server_end = std::move(c); });
    EXPECT_TRUE(l);
    lst = std::move(l).value();
    return lst->local_address();
  });
  std::promise<void> connected;
  net->connect(address, now() + wait_limit, [&](result<std::unique_ptr<connection>> r) {
    ASSERT_TRUE(r);
    client_end = std::move(r).value();
    connected.set_value();
  });
  ASSERT_EQ(connected.get_future().wait_for(wait_limit), std::future_status::ready);
  ASSERT_TRUE(eventually(net->loop(), [&] { return server_end != nullptr; }));
  net.reset(); // stops and destroys the provider; the pieces stay valid and inert
  EXPECT_EQ(client_end->write(std::vector<std::byte>(8)), 0u);
  EXPECT_EQ(client_end->remote_address(), address);
  client_end->abort();
  client_end.reset();
  server_end.reset();
  lst->close();
  lst.reset();
}

} // namespace
} // namespace grainflow
