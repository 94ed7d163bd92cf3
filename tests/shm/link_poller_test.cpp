// Polled receiving (receive_mode::polled, shm_link.spec.md "Polled
// receiving"): a thread of the caller takes the messages off the ring in
// poll() and sleeps on the link's eventfd, as an event loop does; the waker
// thread wakes it (INV-POLL-01); two pollers that send to each other with
// full rings keep draining (INV-POLL-02); the end of the peer is reported
// once, after what it sent (INV-LIVE-03, INV-LIVE-04).

#include "grainflow/shm/link.hpp"

#include "grainflow/endpoints/error.hpp"

#include "link_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include <poll.h>
#include <unistd.h>

namespace {

using namespace grainflow;
using namespace grainflow::shm;
using namespace grainflow::shm::test;
using namespace std::chrono_literals;

link_config polled_config() {
  link_config config;
  config.segment = {8, 4096, 4};
  config.receiving = receive_mode::polled;
  config.spin = std::chrono::microseconds{0};
  return config;
}

/// An event loop of one polled link: polls, runs `work` between polls, and
/// sleeps on the link's eventfd when nothing is ready.
class poller_thread {
public:
  poller_thread(shm::link& l, std::function<void()> work = {})
      : link_(l)
      , work_(std::move(work))
      , thread_([this] { run(); }) {}

  ~poller_thread() { stop(); }

  poller_thread(const poller_thread&) = delete;
  poller_thread& operator=(const poller_thread&) = delete;

  void stop() {
    stopping_.store(true);
    if (thread_.joinable())
      thread_.join();
  }

  /// How often the poller slept on the eventfd and was woken through it.
  std::uint64_t wakeups() const { return wakeups_.load(); }

private:
  void run() {
    while (!stopping_.load()) {
      if (link_.poll() > 0)
        continue;
      if (work_)
        work_();
      if (!link_.prepare_sleep())
        continue;
      pollfd fd{link_.wake_fd(), POLLIN, 0};
      // Bounded only so that stop() is seen; the eventfd is what wakes it.
      if (::poll(&fd, 1, 20) == 1) {
        std::uint64_t count = 0;
        ASSERT_EQ(::read(link_.wake_fd(), &count, sizeof count), 8);
        wakeups_.fetch_add(1);
      }
    }
  }

  shm::link& link_;
  std::function<void()> work_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> wakeups_{0};
  std::thread thread_;
};

/// Two polled ends of one link in this process.
struct polled_pair : link_pair {
  polled_pair()
      : link_pair(polled_config()) {}
};

TEST(link_poller, a_thread_mode_link_has_no_wake_fd) {
  socket_pair sockets;
  recorder side;
  link_config config = polled_config();
  config.receiving = receive_mode::thread;
  auto l = shm::link::create(config, side.handlers(), sockets.a);
  ASSERT_TRUE(l);
  EXPECT_EQ(l.value()->wake_fd(), -1);
}

TEST(link_poller, messages_of_every_size_reach_sleeping_pollers_in_order) {
  // INV-POLL-01: the senders pause between messages, so the pollers go to
  // sleep on their eventfds and must be woken for each message.
  polled_pair pair;
  ASSERT_GE(pair.creator->wake_fd(), 0);
  poller_thread at_creator{*pair.creator};
  poller_thread at_opener{*pair.opener};
  const std::vector<std::size_t> sizes = {0, 1, 56, 57, 248, 249, 4096};
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_TRUE(pair.creator->send(pattern(sizes[i], i)));
    ASSERT_TRUE(pair.opener->send(pattern(sizes[i], 100 + i)));
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_TRUE(pair.opener_side.wait_for_messages(sizes.size()));
  ASSERT_TRUE(pair.creator_side.wait_for_messages(sizes.size()));
  const auto got_opener = pair.opener_side.messages();
  const auto got_creator = pair.creator_side.messages();
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_EQ(got_opener[i], pattern(sizes[i], i)) << "size " << sizes[i];
    EXPECT_EQ(got_creator[i], pattern(sizes[i], 100 + i)) << "size " << sizes[i];
  }
  EXPECT_GT(at_opener.wakeups(), 0u);
  EXPECT_GT(at_creator.wakeups(), 0u);
  EXPECT_EQ(pair.opener->stats().rejected_descriptors, 0u);
}

TEST(link_poller, many_messages_through_a_small_ring_all_arrive) {
  // INV-RING-04, INV-SLOT-07 with a poller: backpressure, never a drop.
  polled_pair pair;
  poller_thread at_opener{*pair.opener};
  constexpr std::size_t n = 2000;
  for (std::size_t i = 0; i < n; ++i)
    ASSERT_TRUE(pair.creator->send(pattern(i % 3 == 0 ? 10 : 1000 + i % 3000, i)));
  ASSERT_TRUE(pair.opener_side.wait_for_messages(n));
  const auto got = pair.opener_side.messages();
  for (std::size_t i = 0; i < n; ++i)
    ASSERT_EQ(got[i], pattern(i % 3 == 0 ? 10 : 1000 + i % 3000, i)) << i;
}

TEST(link_poller, two_pollers_sending_to_each_other_through_full_rings_do_not_wait_forever) {
  // INV-POLL-02: each poller sends far more than the ring and the slots hold
  // from its own thread, while the other does the same; without draining
  // while they wait, both would wait for room until the deadline.
  polled_pair pair;
  constexpr std::size_t n = 500;
  std::atomic<std::size_t> failed{0};
  const auto sender = [&](shm::link& l, std::size_t seed) {
    return [&l, &failed, seed, sent = std::size_t{0}]() mutable {
      for (int burst = 0; burst < 50 && sent < n; ++burst, ++sent)
        if (!l.send(pattern(1000, seed + sent), std::chrono::steady_clock::now() + 5s))
          failed.fetch_add(1);
    };
  };
  poller_thread at_creator{*pair.creator, sender(*pair.creator, 0)};
  poller_thread at_opener{*pair.opener, sender(*pair.opener, 10000)};
  ASSERT_TRUE(pair.opener_side.wait_for_messages(n, 30s));
  ASSERT_TRUE(pair.creator_side.wait_for_messages(n, 30s));
  at_creator.stop();
  at_opener.stop();
  EXPECT_EQ(failed.load(), 0u);
  const auto got = pair.opener_side.messages();
  for (std::size_t i = 0; i < n; ++i)
    ASSERT_EQ(got[i], pattern(1000, i)) << i;
}

TEST(link_poller, a_peer_close_is_reported_once_after_what_it_sent) {
  // INV-LIVE-03, INV-LIVE-04: the sleeping poller is woken by the close,
  // delivers what came before it, then gets connection_failed.
  polled_pair pair;
  poller_thread at_opener{*pair.opener};
  for (std::size_t i = 0; i < 5; ++i)
    ASSERT_TRUE(pair.creator->send(pattern(300, i)));
  pair.creator->close();
  const auto failure = pair.opener_side.wait_for_failure();
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(*failure, error::connection_failed);
  EXPECT_EQ(pair.opener_side.messages().size(), 5u);
  EXPECT_TRUE(pair.opener->stats().peer_closed);
  // Stopped and reported: the poller may sleep, and polls find nothing.
  at_opener.stop();
  EXPECT_TRUE(pair.opener->prepare_sleep());
  EXPECT_EQ(pair.opener->poll(), 0u);
}

TEST(link_poller, a_local_close_stops_the_waker_without_a_report) {
  polled_pair pair;
  {
    poller_thread at_opener{*pair.opener};
    std::this_thread::sleep_for(5ms); // asleep on the eventfd
    pair.opener->close();
  }
  EXPECT_EQ(pair.opener->poll(), 0u);
  EXPECT_FALSE(pair.opener_side.failure().has_value());
  const auto sent = pair.opener->send(pattern(10, 0));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error(), error::transport_closed);
}

} // namespace
