// Scenarios of flow_transport between two transports over real TCP on
// 127.0.0.1: routing, ordering, reliability across dropped connections,
// endpoint-not-found notices, restarts and bad input on the listening port.

#include "networked_transport.hpp"

#include "grainflow/endpoints/well_known.hpp"
#include "grainflow/transport/asio_network.hpp"
#include "grainflow/transport/flow_transport.hpp"
#include "grainflow/transport/handshake.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>

namespace grainflow {
namespace {

using namespace std::chrono_literals;

/// Counts packets and remembers their payloads' first 8 bytes as a number.
class counting_receiver final : public message_receiver {
public:
  void receive_serialized(const incoming_packet& packet) noexcept override {
    std::lock_guard<std::mutex> guard{mtx_};
    std::uint64_t value = 0;
    std::memcpy(&value, packet.payload.data(), std::min<std::size_t>(8, packet.payload.size()));
    values_.push_back(value);
    source_ = packet.source;
    changed_.notify_all();
  }
  /// Waits until `n` packets arrived or `timeout` passed.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock{mtx_};
    return changed_.wait_for(lock, timeout, [&] { return values_.size() >= n; });
  }
  std::vector<std::uint64_t> values() {
    std::lock_guard<std::mutex> guard{mtx_};
    return values_;
  }
  network_address source() {
    std::lock_guard<std::mutex> guard{mtx_};
    return source_;
  }

private:
  std::mutex mtx_;
  std::condition_variable changed_;
  std::vector<std::uint64_t> values_;
  network_address source_;
};

using test::networked;

auto number(std::uint64_t value) {
  return [value](std::vector<std::byte>& out) {
    auto* bytes = reinterpret_cast<const std::byte*>(&value);
    out.insert(out.end(), bytes, bytes + sizeof(value));
  };
}

TEST(remote_transport, a_packet_reaches_a_receiver_in_another_transport) {
  networked a;
  networked b;
  auto receiver = make_intrusive<counting_receiver>();
  auto ep = b.transport->add_endpoint(receiver).value();
  EXPECT_EQ(ep.address, b.address);
  ASSERT_TRUE(a.transport->send_packet(ep, number(7)));
  ASSERT_TRUE(receiver->wait_for(1));
  EXPECT_EQ(receiver->values(), std::vector<std::uint64_t>{7});
  EXPECT_EQ(receiver->source(), a.address);
}

TEST(remote_transport, reliable_packets_arrive_once_and_in_order) {
  networked a;
  networked b;
  auto receiver = make_intrusive<counting_receiver>();
  auto ep = b.transport->add_endpoint(receiver).value();
  constexpr std::uint64_t count = 20'000;
  for (std::uint64_t i = 0; i < count; ++i)
    ASSERT_TRUE(a.transport->send_packet(ep, number(i)));
  ASSERT_TRUE(receiver->wait_for(count));
  auto values = receiver->values();
  ASSERT_EQ(values.size(), count);
  for (std::uint64_t i = 0; i < count; ++i)
    ASSERT_EQ(values[i], i);
  auto peers = a.transport->peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_TRUE(peers[0].connected);
  EXPECT_GT(peers[0].bytes_sent, count * 8);
}

TEST(remote_transport, both_sides_send_to_each_other_over_one_connection) {
  networked a;
  networked b;
  auto at_a = make_intrusive<counting_receiver>();
  auto at_b = make_intrusive<counting_receiver>();
  auto ep_a = a.transport->add_endpoint(at_a).value();
  auto ep_b = b.transport->add_endpoint(at_b).value();
  // Both dial at the same moment.
  std::thread other{[&] {
    for (std::uint64_t i = 0; i < 500; ++i)
      ASSERT_TRUE(b.transport->send_packet(ep_a, number(i)));
  }};
  for (std::uint64_t i = 0; i < 500; ++i)
    ASSERT_TRUE(a.transport->send_packet(ep_b, number(i)));
  other.join();
  ASSERT_TRUE(at_a->wait_for(500));
  ASSERT_TRUE(at_b->wait_for(500));
  EXPECT_EQ(at_a->values().size(), 500u);
  EXPECT_EQ(at_b->values().size(), 500u);
}

TEST(remote_transport, an_unknown_token_fails_the_calls_waiting_on_it) {
  networked a;
  networked b;
  endpoint missing{b.address, uid{0x1234, 0x5678}};

  struct watcher final : ref_counted, call_watcher {
    std::promise<std::error_code> reason;
    void on_call_failed(std::error_code why) noexcept override { reason.set_value(why); }
    void keep() noexcept override { ref(); }
    void release() noexcept override { deref(); }
  };
  auto w = make_intrusive<watcher>();
  auto result = w->reason.get_future();
  a.transport->monitor().track(missing, call_mode::resume, *w);
  ASSERT_TRUE(a.transport->send_packet(missing, number(1)));
  ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(result.get(), error::endpoint_not_found);
  EXPECT_EQ(b.transport->stats().endpoints_not_found, 1u);
}

/// A raw TCP client to a transport's listening port.
int dial(const network_address& address) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(address.port());
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Waits until the server closes `fd` (read returns 0 or an error).
bool closed_by_server(int fd, std::chrono::milliseconds within) {
  timeval tv{static_cast<time_t>(within.count() / 1000),
             static_cast<suseconds_t>((within.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0)
      return true;
    if (n < 0)
      return errno == ECONNRESET;
  }
}

TEST(remote_transport, bad_input_on_the_listening_port_closes_only_that_connection) {
  transport_config config;
  config.connection_timeout = 300ms;
  config.ping_interval = 100ms;
  networked a;
  networked b{config};
  auto receiver = make_intrusive<counting_receiver>();
  auto ep = b.transport->add_endpoint(receiver).value();
  ASSERT_TRUE(a.transport->send_packet(ep, number(1)));
  ASSERT_TRUE(receiver->wait_for(1));

  // Garbage: an impossible length.
  int garbage = dial(b.address);
  ASSERT_GE(garbage, 0);
  const char junk[] = "GET / HTTP/1.1\r\n\r\n";
  ASSERT_GT(::send(garbage, junk, sizeof(junk), 0), 0);
  EXPECT_TRUE(closed_by_server(garbage, 3s));
  ::close(garbage);

  // A well-framed packet with a bad checksum.
  int corrupt = dial(b.address);
  std::vector<std::byte> packet;
  auto hello = encode_handshake(handshake{});
  packet.insert(packet.end(), hello.begin(), hello.end());
  packet[5] ^= std::byte{0xff};
  ASSERT_GT(::send(corrupt, packet.data(), packet.size(), 0), 0);
  EXPECT_TRUE(closed_by_server(corrupt, 3s));
  ::close(corrupt);

  // An incompatible protocol version: refused, and told why (our hello).
  int old_version = dial(b.address);
  handshake ancient;
  ancient.version = protocol_version{0, 9};
  ancient.canonical_address = network_address::loopback_v4(1);
  auto bytes = encode_handshake(ancient);
  ASSERT_GT(::send(old_version, bytes.data(), bytes.size(), 0), 0);
  EXPECT_TRUE(closed_by_server(old_version, 3s));
  ::close(old_version);

  // Truncated: half a handshake, then the client hangs up.
  int truncated = dial(b.address);
  auto half = encode_handshake(handshake{});
  ASSERT_GT(::send(truncated, half.data(), half.size() / 2, 0), 0);
  ::close(truncated);

  // Truncated, then silence: closed after the connection timeout.
  int stalled = dial(b.address);
  ASSERT_GT(::send(stalled, half.data(), half.size() / 2, 0), 0);
  EXPECT_TRUE(closed_by_server(stalled, 5s));
  ::close(stalled);

  // Silence: closed after the connection timeout.
  int silent = dial(b.address);
  EXPECT_TRUE(closed_by_server(silent, 5s));
  ::close(silent);

  EXPECT_GE(b.transport->stats().rejected_connections, 6u);
  // The good connection lost nothing.
  ASSERT_TRUE(a.transport->send_packet(ep, number(2)));
  ASSERT_TRUE(receiver->wait_for(2));
  EXPECT_EQ(receiver->values(), (std::vector<std::uint64_t>{1, 2}));
}

} // namespace
} // namespace grainflow
