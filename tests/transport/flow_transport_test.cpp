// Scenarios of flow_transport's routing without a network: same-process
// packets through the full framing path, unknown tokens, limits, close().

#include "grainflow/transport/flow_transport.hpp"
#include "grainflow/transport/typed_receiver.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace grainflow {
namespace {

/// Records what it receives; counts its own destruction.
class recording_receiver final : public message_receiver {
public:
  explicit recording_receiver(std::atomic<int>* destroyed = nullptr)
      : destroyed_(destroyed) {}
  ~recording_receiver() override {
    if (destroyed_)
      ++*destroyed_;
  }
  void receive_serialized(const incoming_packet& packet) noexcept override {
    std::lock_guard<std::mutex> guard{mtx_};
    payloads_.emplace_back(packet.payload.begin(), packet.payload.end());
    last_token_ = packet.token;
  }
  std::vector<std::vector<std::byte>> payloads() {
    std::lock_guard<std::mutex> guard{mtx_};
    return payloads_;
  }
  uid last_token() {
    std::lock_guard<std::mutex> guard{mtx_};
    return last_token_;
  }

private:
  std::atomic<int>* destroyed_;
  std::mutex mtx_;
  std::vector<std::vector<std::byte>> payloads_;
  uid last_token_;
};

std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out;
  for (char c : text)
    out.push_back(static_cast<std::byte>(c));
  return out;
}

auto append(std::vector<std::byte> payload) {
  return [payload = std::move(payload)](std::vector<std::byte>& out) {
    out.insert(out.end(), payload.begin(), payload.end());
  };
}

TEST(flow_transport, a_packet_to_a_local_endpoint_reaches_its_receiver_intact) {
  flow_transport transport;
  auto receiver = make_intrusive<recording_receiver>();
  auto ep = transport.add_endpoint(receiver).value();
  EXPECT_EQ(ep.address, transport.local_address());
  ASSERT_TRUE(transport.send_packet(ep, append(bytes_of("hello"))));
  ASSERT_EQ(receiver->payloads().size(), 1u);
  EXPECT_EQ(receiver->payloads()[0], bytes_of("hello"));
  EXPECT_EQ(receiver->last_token(), ep.token);
  EXPECT_EQ(transport.stats().packets_delivered, 1u);
  EXPECT_EQ(transport.find_local(ep), receiver);
}

TEST(flow_transport, an_unknown_or_removed_token_is_endpoint_not_found_and_counted) {
  flow_transport transport;
  auto ep = transport.add_endpoint(make_intrusive<recording_receiver>()).value();
  ASSERT_TRUE(transport.remove_endpoint(ep));
  EXPECT_FALSE(transport.remove_endpoint(ep));
  EXPECT_EQ(transport.send_packet(ep, append({})).error(), error::endpoint_not_found);
  EXPECT_EQ(transport.find_local(ep), nullptr);
  EXPECT_EQ(transport.stats().endpoints_not_found, 1u);
}

TEST(flow_transport, a_remote_address_is_not_found_locally) {
  flow_transport transport;
  auto ep = transport.add_endpoint(make_intrusive<recording_receiver>()).value();
  endpoint elsewhere{network_address::loopback_v4(4711), ep.token};
  EXPECT_EQ(transport.find_local(elsewhere), nullptr);
  // No remote route exists without a network provider.
  EXPECT_EQ(transport.send_packet(elsewhere, append({})).error(), error::connection_failed);
}

TEST(flow_transport, a_packet_over_the_limit_is_refused_before_it_leaves) {
  transport_config config;
  config.max_packet_size = 64;
  flow_transport transport{config};
  auto receiver = make_intrusive<recording_receiver>();
  auto ep = transport.add_endpoint(receiver).value();
  EXPECT_EQ(transport.send_packet(ep, append(std::vector<std::byte>(41))).error(),
            error::packet_too_large);
  EXPECT_TRUE(transport.send_packet(ep, append(std::vector<std::byte>(40))));
  EXPECT_EQ(receiver->payloads().size(), 1u);
}

TEST(flow_transport, interface_runs_sit_at_consecutive_tokens) {
  flow_transport transport;
  std::vector<intrusive_ptr<message_receiver>> receivers;
  for (int i = 0; i < 3; ++i)
    receivers.push_back(make_intrusive<recording_receiver>());
  auto base = transport.add_endpoints(receivers).value();
  for (std::uint32_t i = 0; i < 3; ++i)
    EXPECT_EQ(transport.find_local(base.adjusted(i)), receivers[i]);
  EXPECT_TRUE(transport.remove_endpoint(base, 3));
  for (std::uint32_t i = 0; i < 3; ++i)
    EXPECT_EQ(transport.find_local(base.adjusted(i)), nullptr);
}

TEST(flow_transport, close_releases_every_receiver_and_refuses_later_sends) {
  std::atomic<int> destroyed{0};
  endpoint ep;
  {
    flow_transport transport;
    ep = transport.add_endpoint(make_intrusive<recording_receiver>(&destroyed)).value();
    (void)transport.add_endpoint(make_intrusive<recording_receiver>(&destroyed)).value();
    transport.close();
    EXPECT_EQ(destroyed, 2);
    EXPECT_EQ(transport.send_packet(ep, append({})).error(), error::transport_closed);
    EXPECT_EQ(transport.add_endpoint(make_intrusive<recording_receiver>()).error(),
              error::transport_closed);
    transport.close();
  }
  EXPECT_EQ(destroyed, 2);
}

TEST(flow_transport, sends_registrations_and_removals_from_many_threads) {
  flow_transport transport;
  auto stable = make_intrusive<recording_receiver>();
  auto stable_ep = transport.add_endpoint(stable).value();
  std::atomic<int> destroyed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        auto ep = transport.add_endpoint(make_intrusive<recording_receiver>(&destroyed)).value();
        EXPECT_TRUE(transport.send_packet(ep, append(bytes_of("x"))));
        EXPECT_TRUE(transport.remove_endpoint(ep));
      }
    });
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i)
        EXPECT_TRUE(transport.send_packet(stable_ep, append(bytes_of("y"))));
    });
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(destroyed, 600);
  EXPECT_EQ(stable->payloads().size(), 600u);
}

} // namespace
} // namespace grainflow
