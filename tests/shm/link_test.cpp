// The link API with both ends in one process (liveness over a socketpair):
// messages of every size both ways, backpressure, deadlines, close, the
// segment's name in /dev/shm, and the rendezvous. Death of a real process is
// in process_test.cpp; corrupt peers in hostile_peer_test.cpp.

#include "grainflow/shm/link.hpp"
#include "grainflow/shm/rendezvous.hpp"

#include "grainflow/endpoints/error.hpp"

#include "link_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace {

using namespace grainflow;
using namespace grainflow::shm;
using namespace grainflow::shm::test;
using namespace std::chrono_literals;

link_config small_config() {
  link_config config;
  config.segment = {8, 4096, 4};
  return config;
}

TEST(link, messages_of_every_size_arrive_in_order_both_ways) {
  link_pair pair{small_config()};
  ASSERT_EQ(pair.creator->max_message_size(), 4096u);
  const std::vector<std::size_t> sizes = {0, 1, 55, 56, 57, 100, 120, 121, 248, 249, 4095, 4096};
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_TRUE(pair.creator->send(pattern(sizes[i], i)));
    ASSERT_TRUE(pair.opener->send(pattern(sizes[i], 100 + i)));
  }
  ASSERT_TRUE(pair.opener_side.wait_for_messages(sizes.size()));
  ASSERT_TRUE(pair.creator_side.wait_for_messages(sizes.size()));
  const auto at_opener = pair.opener_side.messages();
  const auto at_creator = pair.creator_side.messages();
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_EQ(at_opener[i], pattern(sizes[i], i)) << "size " << sizes[i];
    EXPECT_EQ(at_creator[i], pattern(sizes[i], 100 + i)) << "size " << sizes[i];
  }
  const auto stats = pair.creator->stats();
  EXPECT_EQ(stats.messages_sent, sizes.size());
  EXPECT_EQ(stats.messages_received, sizes.size());
  EXPECT_EQ(stats.rejected_descriptors, 0u);
  EXPECT_TRUE(pair.opener->stats().peer_attached);
  EXPECT_FALSE(stats.failure);
}

TEST(link, many_more_messages_than_ring_and_slots_all_arrive) {
  // INV-RING-04, INV-SLOT-07: a full ring and an empty pool make the sender
  // wait, never fail or drop.
  link_pair pair{small_config()};
  constexpr std::size_t n = 2000;
  std::thread sender{[&] {
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_TRUE(pair.creator->send(pattern(i % 3 == 0 ? 10 : 1000 + i % 3000, i)));
  }};
  ASSERT_TRUE(pair.opener_side.wait_for_messages(n));
  sender.join();
  const auto got = pair.opener_side.messages();
  for (std::size_t i = 0; i < n; ++i)
    ASSERT_EQ(got[i], pattern(i % 3 == 0 ? 10 : 1000 + i % 3000, i)) << i;
}

TEST(link, a_message_larger_than_a_slot_is_refused) {
  link_pair pair{small_config()};
  const auto sent = pair.creator->send(pattern(4097, 0));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error(), error::packet_too_large);
  EXPECT_TRUE(pair.creator->send(pattern(4096, 0))); // still works
}

TEST(link, a_blocked_receiver_makes_senders_wait_until_their_deadline) {
  link_config config = small_config();
  socket_pair sockets;
  recorder creator_side;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> received{0};
  link_handlers blocking{[&](std::span<const std::byte>) {
                           released.wait();
                           ++received;
                         },
                         nullptr};
  auto creator = shm::link::create(config, creator_side.handlers(), sockets.a).value();
  auto opener = shm::link::open(creator->name(), config, std::move(blocking), sockets.b).value();
  // The handler blocks on the first message; the ring (8) and the batch the
  // receiver copied out (up to 8) fill, then sends wait.
  int sent = 0;
  result<void> last = success();
  while (sent < 100) {
    last = creator->send(pattern(8, sent), std::chrono::steady_clock::now() + 50ms);
    if (!last)
      break;
    ++sent;
  }
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error(), error::timed_out);
  EXPECT_GE(sent, 8);
  EXPECT_LE(sent, 17);
  EXPECT_GE(creator->stats().waits_for_room, 1u);
  release.set_value();
  // Nothing was lost: everything sent before the timeout arrives, and the
  // link goes on.
  ASSERT_TRUE(creator->send(pattern(8, sent)));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (received.load() < sent + 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(received.load(), sent + 1);
}

TEST(link, slots_come_back_so_large_messages_never_run_out) {
  // 4 slots, 500 large messages: each slot is reused ~125 times.
  link_pair pair{small_config()};
  for (std::size_t i = 0; i < 500; ++i)
    ASSERT_TRUE(pair.creator->send(pattern(4096, i)));
  ASSERT_TRUE(pair.opener_side.wait_for_messages(500));
  EXPECT_LE(pair.creator->stats().slots_in_flight, 4u);
  EXPECT_EQ(pair.creator->stats().rejected_returns, 0u);
}

TEST(link, close_fails_the_peer_after_delivering_what_was_sent) {
  // INV-LIVE-04.
  link_pair pair{small_config()};
  ASSERT_TRUE(pair.creator->send(pattern(100, 1)));
  ASSERT_TRUE(pair.creator->send(pattern(10, 2)));
  pair.creator->close();
  const auto failure = pair.opener_side.wait_for_failure();
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(*failure, error::connection_failed);
  EXPECT_EQ(pair.opener_side.messages().size(), 2u);
  const auto stats = pair.opener->stats();
  EXPECT_TRUE(stats.peer_closed);
  EXPECT_FALSE(stats.peer_dead);
  EXPECT_EQ(stats.failure, error::connection_failed);

  const auto local = pair.creator->send(pattern(1, 0));
  ASSERT_FALSE(local);
  EXPECT_EQ(local.error(), error::transport_closed);
  const auto remote = pair.opener->send(pattern(1, 0));
  ASSERT_FALSE(remote);
  EXPECT_EQ(remote.error(), error::connection_failed);
  EXPECT_FALSE(pair.creator_side.failure().has_value()); // a local close is not reported
  pair.creator->close();                                 // idempotent
}

TEST(link, close_wakes_a_sender_waiting_for_room) {
  link_config config = small_config();
  socket_pair sockets;
  recorder creator_side;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  link_handlers blocking{[&](std::span<const std::byte>) { released.wait(); }, nullptr};
  auto creator = shm::link::create(config, creator_side.handlers(), sockets.a).value();
  auto opener = shm::link::open(creator->name(), config, std::move(blocking), sockets.b).value();
  auto waiting = std::async(std::launch::async, [&] {
    for (;;) {
      auto sent = creator->send(pattern(8, 0));
      if (!sent)
        return sent.error();
    }
  });
  ASSERT_EQ(waiting.wait_for(200ms), std::future_status::timeout); // it waits
  creator->close();
  ASSERT_EQ(waiting.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(waiting.get(), error::transport_closed);
  release.set_value();
}

TEST(link, the_name_leaves_dev_shm_once_both_sides_mapped_it) {
  // INV-LIVE-05.
  socket_pair sockets;
  recorder a;
  recorder b;
  auto creator = shm::link::create(small_config(), a.handlers(), sockets.a).value();
  const std::string name = creator->name();
  EXPECT_TRUE(in_dev_shm(name));
  auto opener = shm::link::open(name, small_config(), b.handlers(), sockets.b).value();
  EXPECT_FALSE(in_dev_shm(name));
  // The name cannot be opened a second time.
  auto again = shm::link::open(name, small_config(), recorder{}.handlers());
  EXPECT_FALSE(again);
}

TEST(link, a_creator_closed_before_anyone_opened_removes_its_name) {
  recorder a;
  auto creator = shm::link::create(small_config(), a.handlers()).value();
  const std::string name = creator->name();
  EXPECT_TRUE(in_dev_shm(name));
  creator.reset();
  EXPECT_FALSE(in_dev_shm(name));
}

TEST(link, a_peer_that_never_comes_is_given_up_after_the_attach_timeout) {
  // INV-LIVE-06.
  link_config config = small_config();
  config.attach_timeout = 300ms;
  recorder a;
  auto creator = shm::link::create(config, a.handlers()).value();
  const auto failure = a.wait_for_failure(5s);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(*failure, error::connection_failed);
  EXPECT_FALSE(in_dev_shm(creator->name()));
}

TEST(link, a_hung_up_liveness_socket_fails_the_link) {
  // INV-LIVE-04: the socket alone tells of the peer's end (here the peer
  // never even opened the segment).
  socket_pair sockets;
  recorder a;
  auto creator = shm::link::create(small_config(), a.handlers(), sockets.a).value();
  ::shutdown(sockets.b, SHUT_RDWR);
  const auto failure = a.wait_for_failure(2s);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(*failure, error::connection_failed);
  EXPECT_TRUE(creator->stats().peer_dead);
  EXPECT_FALSE(in_dev_shm(creator->name()));
}

TEST(link, open_refuses_names_that_are_not_segment_names) {
  for (const char* name :
       {"", "/", "/etc/passwd", "/grainflow-shm-", "/grainflow-shm-12-abc",
        "/grainflow-shm-12-0123456789abcdefg", "grainflow-shm-1-0123456789abcdef",
        "/grainflow-shm-1/0123456789abcde"}) {
    auto opened = shm::link::open(name, small_config(), recorder{}.handlers());
    ASSERT_FALSE(opened) << name;
    EXPECT_EQ(opened.error(), std::errc::invalid_argument) << name;
  }
}

TEST(link, handlers_may_send_and_close) {
  socket_pair sockets;
  recorder creator_side;
  std::unique_ptr<shm::link> opener;
  std::atomic<bool> closed{false};
  link_handlers echo{[&](std::span<const std::byte> message) {
                       if (message.size() == 1) {
                         closed = true;
                         opener->close();
                         return;
                       }
                       EXPECT_TRUE(opener->send(message));
                     },
                     nullptr};
  auto creator = shm::link::create(small_config(), creator_side.handlers(), sockets.a).value();
  opener = shm::link::open(creator->name(), small_config(), std::move(echo), sockets.b).value();
  ASSERT_TRUE(creator->send(pattern(300, 9)));
  ASSERT_TRUE(creator_side.wait_for_messages(1));
  EXPECT_EQ(creator_side.messages()[0], pattern(300, 9));
  ASSERT_TRUE(creator->send(pattern(1, 0)));
  ASSERT_TRUE(creator_side.wait_for_failure().has_value());
  EXPECT_TRUE(closed.load());
}

TEST(link, the_rendezvous_joins_two_ends) {
  const std::string rendezvous = "link-test-" + std::to_string(::getpid());
  auto listener = link_listener::listen(rendezvous);
  ASSERT_TRUE(listener) << listener.error().message();
  recorder a;
  recorder b;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto opening = std::async(std::launch::async, [&] {
    return connect_link(rendezvous, small_config(), b.handlers(), deadline);
  });
  auto creator = listener.value().accept(small_config(), a.handlers(), deadline);
  ASSERT_TRUE(creator) << creator.error().message();
  auto opener = opening.get();
  ASSERT_TRUE(opener) << opener.error().message();
  ASSERT_TRUE(creator.value()->send(pattern(77, 1)));
  ASSERT_TRUE(opener.value()->send(pattern(7, 2)));
  ASSERT_TRUE(b.wait_for_messages(1));
  ASSERT_TRUE(a.wait_for_messages(1));
  EXPECT_EQ(b.messages()[0], pattern(77, 1));
  EXPECT_EQ(a.messages()[0], pattern(7, 2));
  EXPECT_FALSE(in_dev_shm(creator.value()->name()));
  // Closing one end hangs up the rendezvous connection too.
  creator.value().reset();
  EXPECT_TRUE(b.wait_for_failure(2s).has_value());
}

TEST(link, connecting_to_nobody_times_out) {
  const auto connected =
      connect_link("nobody-" + std::to_string(::getpid()), small_config(), recorder{}.handlers(),
                   std::chrono::steady_clock::now() + 100ms);
  ASSERT_FALSE(connected);
  EXPECT_EQ(connected.error(), error::timed_out);
}

TEST(link, bad_configs_are_refused) {
  for (segment_config bad :
       {segment_config{3, 4096, 4}, segment_config{1, 4096, 4}, segment_config{8, 100, 4},
        segment_config{8, 4096, 0}, segment_config{8, 1u << 30, 1u << 16}}) {
    link_config config;
    config.segment = bad;
    auto created = shm::link::create(config, recorder{}.handlers());
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error(), std::errc::invalid_argument);
  }
}

} // namespace
