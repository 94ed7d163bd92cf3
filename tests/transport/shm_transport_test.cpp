// flow_transport between two transports on this host: the session moves to a
// shared-memory link after the handshake (docs/protocol.md, "Shared memory"),
// unless either side forces TCP.

#include "networked_transport.hpp"

#include "grainflow/transport/flow_transport.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

namespace grainflow {
namespace {

using namespace std::chrono_literals;
using test::networked;

/// Records each packet's number (first 8 bytes) and checks that every
/// following byte is the pattern `fill(number, i)`.
class checking_receiver final : public message_receiver {
public:
  static std::byte fill(std::uint64_t value, std::size_t i) {
    return static_cast<std::byte>((value * 131 + i * 7) & 0xff);
  }
  void receive_serialized(const incoming_packet& packet) noexcept override {
    std::lock_guard<std::mutex> guard{mtx_};
    std::uint64_t value = 0;
    std::memcpy(&value, packet.payload.data(), std::min<std::size_t>(8, packet.payload.size()));
    for (std::size_t i = 8; i < packet.payload.size(); ++i)
      if (packet.payload[i] != fill(value, i)) {
        ++corrupt_;
        break;
      }
    values_.push_back(value);
    changed_.notify_all();
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock<std::mutex> lock{mtx_};
    return changed_.wait_for(lock, timeout, [&] { return values_.size() >= n; });
  }
  std::vector<std::uint64_t> values() {
    std::lock_guard<std::mutex> guard{mtx_};
    return values_;
  }
  std::size_t corrupt() {
    std::lock_guard<std::mutex> guard{mtx_};
    return corrupt_;
  }

private:
  std::mutex mtx_;
  std::condition_variable changed_;
  std::vector<std::uint64_t> values_;
  std::size_t corrupt_ = 0;
};

auto packet(std::uint64_t value, std::size_t size) {
  return [value, size](std::vector<std::byte>& out) {
    auto* bytes = reinterpret_cast<const std::byte*>(&value);
    out.insert(out.end(), bytes, bytes + sizeof(value));
    for (std::size_t i = 8; i < size; ++i)
      out.push_back(checking_receiver::fill(value, i));
  };
}

/// Waits until `pred` holds or `timeout` passed.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// Segments in /dev/shm created by this process (names carry the pid).
std::size_t shm_segments() {
  std::size_t n = 0;
  auto mark = "grainflow-shm-" + std::to_string(::getpid()) + "-";
  if (auto* dir = ::opendir("/dev/shm")) {
    while (auto* entry = ::readdir(dir))
      if (std::string{entry->d_name}.starts_with(mark))
        ++n;
    ::closedir(dir);
  }
  return n;
}

/// Every 50th packet larger than a slot (64 KiB), every 7th a few hundred
/// bytes, the rest 8.
std::size_t mixed_size(std::uint64_t i) {
  return i % 50 == 0 ? 200'000 + i : i % 7 == 0 ? 300 : 8;
}

/// Sends `count` packets of `size_of(i)` bytes from a to b; checks order,
/// content and count.
void exchange(networked& a, networked& b, std::uint64_t count,
              std::size_t (*size_of)(std::uint64_t) = mixed_size) {
  auto receiver = make_intrusive<checking_receiver>();
  auto ep = b.transport->add_endpoint(receiver).value();
  for (std::uint64_t i = 0; i < count; ++i)
    ASSERT_TRUE(a.transport->send_packet(ep, packet(i, size_of(i))));
  ASSERT_TRUE(receiver->wait_for(count));
  auto values = receiver->values();
  ASSERT_EQ(values.size(), count);
  for (std::uint64_t i = 0; i < count; ++i)
    ASSERT_EQ(values[i], i);
  EXPECT_EQ(receiver->corrupt(), 0u);
}

/// Waits until a and b send to each other over the link.
bool both_on_shm(networked& a, networked& b) {
  return eventually([&] {
    auto pa = a.transport->peers();
    auto pb = b.transport->peers();
    return pa.size() == 1 && pb.size() == 1 && pa[0].shared_memory && pb[0].shared_memory;
  });
}

/// Connects a to b with one packet and waits until both moved to the link.
bool connect_over_shm(networked& a, networked& b) {
  exchange(a, b, 1);
  return both_on_shm(a, b);
}

TEST(shm_transport, peers_on_one_host_move_their_traffic_to_shared_memory) {
  {
    networked a;
    networked b;
    // Connect and let the switch happen, then send: all of it over the link.
    ASSERT_TRUE(connect_over_shm(a, b));
    auto sent_before = a.transport->peers()[0].shm_bytes_sent;
    exchange(a, b, 2'000);
    auto pa = a.transport->peers()[0];
    auto pb = b.transport->peers()[0];
    EXPECT_EQ(pa.shm_links, 1u);
    EXPECT_GT(pa.shm_bytes_sent - sent_before, 2'000u * 8 + 40u * 200'000);
    EXPECT_GT(pb.shm_bytes_received, 40u * 200'000);
    EXPECT_EQ(pa.protocol_errors, 0u);
    EXPECT_EQ(pb.protocol_errors, 0u);
    // The opener removed the name once it had mapped the segment.
    EXPECT_EQ(shm_segments(), 0u);
  }
  EXPECT_EQ(shm_segments(), 0u);
}

TEST(shm_transport, traffic_sent_during_the_switch_arrives_once_and_in_order) {
  networked a;
  networked b;
  // Everything is queued before the first connection: part of it travels over
  // TCP, the rest over the link.
  exchange(a, b, 3'000);
  EXPECT_TRUE(eventually([&] { return a.transport->peers()[0].shared_memory; }));
}

TEST(shm_transport, both_directions_use_the_link) {
  networked a;
  networked b;
  std::thread other{[&] { exchange(b, a, 500); }};
  exchange(a, b, 500);
  other.join();
  // The exchanges may finish over TCP before the switch completes on both
  // sides (under TSan, with the machine busy, they have): wait for it.
  EXPECT_TRUE(both_on_shm(a, b));
  auto pa = a.transport->peers()[0];
  auto pb = b.transport->peers()[0];
  EXPECT_EQ(pa.shm_links, 1u);
  EXPECT_EQ(pb.shm_links, 1u);
}

TEST(shm_transport, large_packets_both_ways_at_once_fill_the_links_and_all_arrive) {
  // INV-POLL-02 through the transport: each network thread writes more than
  // the link's slots hold (16 MiB) while the other does the same; each keeps
  // taking the other's messages while it waits for room, so neither waits
  // for the other, and no connection is given up. A deadlock would end in
  // a send's deadline (2 s) and a second link; the connection timeout is
  // long, so that a slow (sanitized) build's long flushes do not count.
  transport_config patient;
  patient.connection_timeout = std::chrono::seconds{30};
  networked a{patient};
  networked b{patient};
  ASSERT_TRUE(connect_over_shm(a, b));
  const auto large = [](std::uint64_t i) -> std::size_t { return 400'000 + i; };
  std::thread other{[&] { exchange(b, a, 60, large); }};
  exchange(a, b, 60, large);
  other.join();
  EXPECT_EQ(a.transport->peers()[0].shm_links, 1u);
  EXPECT_EQ(b.transport->peers()[0].shm_links, 1u);
  EXPECT_TRUE(a.transport->peers()[0].shared_memory);
}

TEST(shm_transport, either_side_can_force_tcp) {
  for (int forcing = 0; forcing < 2; ++forcing) {
    transport_config tcp;
    tcp.use_shared_memory = false;
    networked a{forcing == 0 ? tcp : transport_config{}};
    networked b{forcing == 1 ? tcp : transport_config{}};
    exchange(a, b, 300);
    std::this_thread::sleep_for(50ms);
    exchange(b, a, 300);
    for (auto* side : {&a, &b}) {
      auto stats = side->transport->peers()[0];
      EXPECT_FALSE(stats.shared_memory);
      EXPECT_EQ(stats.shm_links, 0u);
      EXPECT_EQ(stats.shm_bytes_sent, 0u);
      EXPECT_GT(stats.bytes_received + stats.bytes_sent, 0u);
    }
  }
}

TEST(shm_transport, a_closed_peer_is_noticed_and_no_segment_is_left) {
  networked a;
  auto b = std::make_unique<networked>();
  exchange(a, *b, 10);
  ASSERT_TRUE(eventually([&] { return a.transport->peers()[0].shared_memory; }));
  b.reset();
  EXPECT_TRUE(eventually([&] { return !a.transport->peers()[0].shared_memory; }, 3s));
  EXPECT_EQ(shm_segments(), 0u);
}

} // namespace
} // namespace grainflow
