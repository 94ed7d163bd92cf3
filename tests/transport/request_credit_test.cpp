// Request flow control (docs/protocol.md, "Request flow control"): the
// account and tickets on their own, then two transports over real TCP where
// the receiver keeps requests unanswered and the sender must hold back.

#include "networked_transport.hpp"

#include "grainflow/transport/request_credit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace grainflow {
namespace {

using namespace std::chrono_literals;
using test::networked;

// -- the account and its tickets ----------------------------------------------

TEST(credit_account, counts_admitted_and_released_bytes) {
  int due = 0;
  auto account = make_intrusive<credit_account>(100, [&] { ++due; });
  account->admit(60);
  account->admit(60);
  EXPECT_EQ(account->backlog(), 120u);
  {
    credit_ticket first{account, 60};
    credit_ticket moved = std::move(first);
    EXPECT_FALSE(first);
    EXPECT_TRUE(moved);
    moved.release();
    moved.release(); // idempotent
    EXPECT_EQ(account->backlog(), 60u);
    EXPECT_EQ(due, 0); // 60 < the grant step
    credit_ticket second{account, 60};
  } // released on destruction
  EXPECT_EQ(account->backlog(), 0u);
  EXPECT_EQ(due, 1); // 120 >= 100: the grant is due, once
  EXPECT_EQ(account->take_grant(), 120u);
  account->admit(100);
  credit_ticket{account, 100}.release();
  EXPECT_EQ(due, 2); // asked again after the grant was taken
  EXPECT_EQ(account->take_grant(), 220u);
}

TEST(credit_account, a_retired_account_asks_for_no_grant) {
  int due = 0;
  auto account = make_intrusive<credit_account>(1, [&] { ++due; });
  account->retire();
  account->admit(10);
  credit_ticket{account, 10}.release();
  EXPECT_EQ(due, 0);
  EXPECT_EQ(account->backlog(), 0u);
}

// -- between two transports ---------------------------------------------------

/// Keeps every request's ticket (as a server that has not answered yet
/// would) until told to let go; records the payloads' numbers in order.
class keeping_receiver final : public message_receiver {
public:
  void receive_serialized(const incoming_packet& packet) noexcept override {
    std::lock_guard<std::mutex> guard{mtx_};
    std::uint64_t value = 0;
    std::memcpy(&value, packet.payload.data(), std::min<std::size_t>(8, packet.payload.size()));
    values_.push_back(value);
    if (packet.ticket != nullptr)
      kept_.push_back(std::move(*packet.ticket));
    changed_.notify_all();
  }

  /// Answers everything kept so far.
  void release_all() {
    std::vector<credit_ticket> going;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      going.swap(kept_);
    }
  }

  std::size_t received() {
    std::lock_guard<std::mutex> guard{mtx_};
    return values_.size();
  }

  std::vector<std::uint64_t> values() {
    std::lock_guard<std::mutex> guard{mtx_};
    return values_;
  }

  /// Waits until `n` packets arrived or `timeout` passed.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock{mtx_};
    return changed_.wait_for(lock, timeout, [&] { return values_.size() >= n; });
  }

private:
  std::mutex mtx_;
  std::condition_variable changed_;
  std::vector<std::uint64_t> values_;
  std::vector<credit_ticket> kept_;
};

/// A payload of `size` bytes that starts with `value`.
auto payload(std::uint64_t value, std::size_t size) {
  return [value, size](std::vector<std::byte>& out) {
    auto start = out.size();
    out.resize(start + size);
    std::memcpy(out.data() + start, &value, sizeof(value));
  };
}

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 10s) {
  auto give_up = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

transport_config with_window(std::size_t bytes) {
  transport_config config;
  config.request_window_bytes = bytes;
  return config;
}

// A request's packet here: 24 bytes of header and a 200-byte payload.
constexpr std::size_t request_payload = 200;
constexpr std::size_t request_packet = 224;

TEST(request_window, a_full_window_holds_requests_until_answers_free_it) {
  networked client;
  networked server{with_window(10 * request_packet)};
  auto receiver = make_intrusive<keeping_receiver>();
  auto ep = server.transport->add_endpoint(receiver).value();
  constexpr std::uint64_t count = 100;
  for (std::uint64_t i = 0; i < count; ++i)
    ASSERT_TRUE(client.transport->send_packet(ep, payload(i, request_payload), delivery::request));
  ASSERT_TRUE(receiver->wait_for(10));
  // The window holds exactly ten: the rest wait in the client's process.
  ASSERT_TRUE(eventually([&] { return client.transport->peers().at(0).requests_held == 90; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver->received(), 10u);
  EXPECT_EQ(server.transport->peers().at(0).inbound_backlog_bytes, 10 * request_packet);
  EXPECT_GT(client.transport->peers().at(0).window_stalls, 0u);
  // Each answer lets more in, in order, until all arrived.
  while (receiver->received() < count) {
    receiver->release_all();
    ASSERT_TRUE(eventually([&] {
      return receiver->received() == count ||
             server.transport->peers().at(0).inbound_backlog_bytes > 0;
    }));
    EXPECT_LE(server.transport->peers().at(0).inbound_backlog_bytes, 10 * request_packet);
  }
  auto values = receiver->values();
  ASSERT_EQ(values.size(), count);
  for (std::uint64_t i = 0; i < count; ++i)
    EXPECT_EQ(values[i], i);
  receiver->release_all();
  EXPECT_TRUE(eventually([&] { return client.transport->peers().at(0).requests_held == 0; }));
}

TEST(request_window, replies_pass_a_full_window_in_both_directions) {
  networked client;
  networked server{with_window(4 * request_packet)};
  auto requests = make_intrusive<keeping_receiver>();
  auto request_ep = server.transport->add_endpoint(requests).value();
  auto server_side = make_intrusive<keeping_receiver>();
  auto server_ep = server.transport->add_endpoint(server_side).value();
  auto client_side = make_intrusive<keeping_receiver>();
  auto client_ep = client.transport->add_endpoint(client_side).value();
  for (std::uint64_t i = 0; i < 20; ++i)
    ASSERT_TRUE(
        client.transport->send_packet(request_ep, payload(i, request_payload), delivery::request));
  ASSERT_TRUE(eventually([&] { return client.transport->peers().at(0).requests_held == 16; }));
  // Replies (reliable, not requests) go both ways while the window is full:
  // holding them could deadlock two processes that call each other.
  for (std::uint64_t i = 0; i < 50; ++i) {
    ASSERT_TRUE(server.transport->send_packet(client_ep, payload(i, request_payload)));
    ASSERT_TRUE(client.transport->send_packet(server_ep, payload(i, request_payload)));
  }
  EXPECT_TRUE(client_side->wait_for(50));
  EXPECT_TRUE(server_side->wait_for(50));
  EXPECT_EQ(requests->received(), 4u);
  requests->release_all();
}

TEST(request_window, a_full_window_makes_a_requesting_thread_wait) {
  transport_config small_outbox;
  small_outbox.outbox_bytes = 20 * request_packet;
  networked client{small_outbox};
  networked server{with_window(10 * request_packet)};
  auto receiver = make_intrusive<keeping_receiver>();
  auto ep = server.transport->add_endpoint(receiver).value();
  constexpr std::uint64_t count = 200;
  std::atomic<std::uint64_t> sent{0};
  std::thread sender{[&] {
    for (std::uint64_t i = 0; i < count; ++i) {
      EXPECT_TRUE(
          client.transport->send_packet(ep, payload(i, request_payload), delivery::request));
      sent.fetch_add(1);
    }
  }};
  // Ten in the server, twenty held by the client: the thread waits at ~30.
  ASSERT_TRUE(receiver->wait_for(10));
  std::this_thread::sleep_for(200ms);
  EXPECT_LE(sent.load(), 31u);
  EXPECT_EQ(receiver->received(), 10u);
  // Answers let it go on to the end.
  ASSERT_TRUE(eventually([&] {
    receiver->release_all();
    return receiver->received() == count;
  }));
  sender.join();
  EXPECT_EQ(sent.load(), count);
  receiver->release_all();
}

TEST(request_window, a_request_larger_than_the_window_goes_alone) {
  networked client;
  networked server{with_window(1024)};
  auto receiver = make_intrusive<keeping_receiver>();
  auto ep = server.transport->add_endpoint(receiver).value();
  ASSERT_TRUE(client.transport->send_packet(ep, payload(1, 4096), delivery::request));
  ASSERT_TRUE(client.transport->send_packet(ep, payload(2, 4096), delivery::request));
  ASSERT_TRUE(receiver->wait_for(1));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver->received(), 1u);
  receiver->release_all();
  ASSERT_TRUE(receiver->wait_for(2));
  EXPECT_EQ(receiver->values(), (std::vector<std::uint64_t>{1, 2}));
  receiver->release_all();
}

TEST(request_window, a_receiver_without_a_window_holds_nothing_back) {
  networked client;
  networked server{with_window(0)};
  auto receiver = make_intrusive<keeping_receiver>();
  auto ep = server.transport->add_endpoint(receiver).value();
  for (std::uint64_t i = 0; i < 100; ++i)
    ASSERT_TRUE(client.transport->send_packet(ep, payload(i, request_payload), delivery::request));
  ASSERT_TRUE(receiver->wait_for(100));
  EXPECT_EQ(client.transport->peers().at(0).window_stalls, 0u);
  EXPECT_EQ(server.transport->peers().at(0).inbound_backlog_bytes, 0u);
}

} // namespace
} // namespace grainflow
