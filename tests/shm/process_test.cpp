// Two real processes over a link (the other one is shm_test_peer): millions
// of messages of random sizes both ways with every byte checked; kill -9 of
// either side mid-stream; a peer that stops. The survivor notices within a
// second, reclaims its slots, fails the sends that were waiting, and leaves
// nothing in /dev/shm. INV-RING-04, INV-SLOT-06/07, INV-LIVE-02..05.

#include "grainflow/shm/link.hpp"
#include "grainflow/shm/rendezvous.hpp"

#include "grainflow/endpoints/error.hpp"

#include "link_test_support.hpp"
#include "stress_messages.hpp"
#include "support/child_process.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <thread>

namespace {

using namespace grainflow;
using namespace grainflow::shm::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// Messages each way in the stress test, per role: 2M in plain builds, fewer
/// under the sanitizers (5-20x slower) so that the test stays at a few
/// seconds there. GRAINFLOW_SHM_STRESS_MESSAGES overrides.
std::uint64_t stress_count() {
  if (const char* text = std::getenv("GRAINFLOW_SHM_STRESS_MESSAGES"))
    return std::strtoull(text, nullptr, 10);
#if defined(__SANITIZE_THREAD__)
  return 200'000;
#elif defined(__SANITIZE_ADDRESS__)
  return 500'000;
#else
  return 2'000'000;
#endif
}

std::string fresh_rendezvous() {
  static std::atomic<int> counter{0};
  return "process-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

/// Segments in /dev/shm that a process with `pid` created.
std::vector<std::string> segments_of(pid_t pid) {
  std::vector<std::string> found;
  const std::string prefix = "grainflow-shm-" + std::to_string(pid) + "-";
  if (DIR* dir = ::opendir("/dev/shm")) {
    while (const dirent* entry = ::readdir(dir))
      if (std::string_view{entry->d_name}.starts_with(prefix))
        found.emplace_back(entry->d_name);
    ::closedir(dir);
  }
  return found;
}

/// The link to a running shm_test_peer.
struct peer_process {
  std::unique_ptr<test::child_process> child;
  std::unique_ptr<shm::link> link;
};

/// Starts shm_test_peer with `scenario` and joins it: this process creates
/// the segment when `we_create`, else the child does.
peer_process start_peer(bool we_create, std::vector<std::string> scenario,
                        shm::link_handlers handlers, const shm::link_config& config = {}) {
  peer_process p;
  const std::string rendezvous = fresh_rendezvous();
  const auto deadline = clock_type::now() + 30s;
  std::vector<std::string> args = {we_create ? "open" : "create", rendezvous};
  args.insert(args.end(), scenario.begin(), scenario.end());
  std::string error;
  if (we_create) {
    auto listener = shm::link_listener::listen(rendezvous);
    EXPECT_TRUE(listener);
    p.child = test::child_process::spawn(GRAINFLOW_SHM_TEST_PEER, args, {}, &error);
    EXPECT_TRUE(p.child) << error;
    auto created = listener.value().accept(config, std::move(handlers), deadline);
    EXPECT_TRUE(created) << created.error().message();
    if (created)
      p.link = std::move(created.value());
  } else {
    p.child = test::child_process::spawn(GRAINFLOW_SHM_TEST_PEER, args, {}, &error);
    EXPECT_TRUE(p.child) << error;
    EXPECT_TRUE(p.child && p.child->wait_for_output("listening", 30s));
    auto opened = shm::connect_link(rendezvous, config, std::move(handlers), deadline);
    EXPECT_TRUE(opened) << opened.error().message();
    if (opened)
      p.link = std::move(opened.value());
  }
  return p;
}

class process_test : public ::testing::TestWithParam<bool> {
protected:
  bool we_create() const { return GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(both_roles, process_test, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "we_create" : "we_open"; });

TEST_P(process_test, millions_of_messages_of_every_size_both_ways_every_byte_checked) {
  const std::uint64_t count = stress_count();
  const std::size_t max = shm::link_config{}.segment.slot_size;
  constexpr std::uint64_t our_seed = 11;
  constexpr std::uint64_t their_seed = 22;
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> bad{0};
  shm::link_handlers handlers{[&](std::span<const std::byte> message) {
                                const auto n = received.load(std::memory_order_relaxed);
                                if (!stress_check(their_seed, n, max, message))
                                  bad.fetch_add(1, std::memory_order_relaxed);
                                received.store(n + 1, std::memory_order_release);
                              },
                              nullptr};
  auto peer = start_peer(
      we_create(),
      {"stress", std::to_string(count), std::to_string(their_seed), std::to_string(our_seed)},
      std::move(handlers));
  ASSERT_TRUE(peer.link);
  const std::string name = peer.link->name();
  const auto start = clock_type::now();
  std::vector<std::byte> buffer(max);
  std::uint64_t bytes = 0;
  for (std::uint64_t n = 0; n < count; ++n) {
    const auto size = stress_size(our_seed, n, max);
    stress_fill(our_seed, n, {buffer.data(), size});
    ASSERT_TRUE(peer.link->send({buffer.data(), size})) << "message " << n;
    bytes += size;
  }
  const auto deadline = clock_type::now() + 120s;
  while (received.load(std::memory_order_acquire) < count && clock_type::now() < deadline)
    std::this_thread::sleep_for(1ms);
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  ASSERT_EQ(received.load(), count);
  EXPECT_EQ(bad.load(), 0u);
  const auto status = peer.child->wait(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, test::exit_status::exit_code(0)) << peer.child->output();
  const auto stats = peer.link->stats();
  EXPECT_EQ(stats.messages_sent, count);
  EXPECT_EQ(stats.messages_received, count);
  EXPECT_EQ(stats.rejected_descriptors, 0u);
  EXPECT_EQ(stats.rejected_returns, 0u);
  std::printf("%llu messages each way (%.1f MB from us) in %.2f s; waits for room %llu, "
              "receiver sleeps %llu, wakeups issued %llu\n",
              static_cast<unsigned long long>(count), static_cast<double>(bytes) / 1e6, seconds,
              static_cast<unsigned long long>(stats.waits_for_room),
              static_cast<unsigned long long>(stats.receiver_sleeps),
              static_cast<unsigned long long>(stats.wakeups_issued));
  peer.link.reset();
  EXPECT_FALSE(in_dev_shm(name));
  EXPECT_TRUE(segments_of(peer.child->pid()).empty());
}

TEST_P(process_test, kill_9_mid_stream_is_noticed_within_a_second) {
  std::atomic<std::uint64_t> received{0};
  std::atomic<clock_type::rep> failed_at{0};
  std::atomic<int> failure_code{0};
  shm::link_handlers handlers{
      [&](std::span<const std::byte>) { received.fetch_add(1, std::memory_order_relaxed); },
      [&](std::error_code reason) {
        failure_code.store(reason.value());
        failed_at.store(clock_type::now().time_since_epoch().count());
      }};
  auto peer = start_peer(we_create(), {"flood"}, std::move(handlers));
  ASSERT_TRUE(peer.link);
  ASSERT_TRUE(peer.child->wait_for_output("ready", 30s));
  const std::string name = peer.link->name();
  // Mid-stream: the peer floods us...
  const auto flooding = clock_type::now() + 30s;
  while (received.load() < 10'000 && clock_type::now() < flooding)
    std::this_thread::sleep_for(1ms);
  ASSERT_GE(received.load(), 10'000u);
  // ...while our sender waits for room the peer will never make (its
  // handler blocks on our first message).
  std::atomic<clock_type::rep> send_failed_at{0};
  std::error_code send_error;
  std::thread sender{[&] {
    std::vector<std::byte> message(300, std::byte{1});
    for (;;) {
      auto sent = peer.link->send(message);
      if (!sent) {
        send_error = sent.error();
        send_failed_at.store(clock_type::now().time_since_epoch().count());
        return;
      }
    }
  }};
  const auto waiting = clock_type::now() + 30s;
  while (peer.link->stats().waits_for_room == 0 && clock_type::now() < waiting)
    std::this_thread::sleep_for(1ms);
  ASSERT_GT(peer.link->stats().waits_for_room, 0u);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(send_failed_at.load(), 0);

  const auto killed = clock_type::now();
  ASSERT_TRUE(peer.child->kill(SIGKILL));
  sender.join();
  const auto since_kill = [&](clock_type::rep at) {
    return clock_type::time_point{clock_type::duration{at}} - killed;
  };
  EXPECT_EQ(send_error, error::connection_failed);
  EXPECT_LT(since_kill(send_failed_at.load()), 1s);
  const auto reported = clock_type::now() + 5s;
  while (failed_at.load() == 0 && clock_type::now() < reported)
    std::this_thread::sleep_for(1ms);
  ASSERT_NE(failed_at.load(), 0);
  EXPECT_EQ(failure_code.load(), static_cast<int>(error::connection_failed));
  EXPECT_LT(since_kill(failed_at.load()), 1s);
  using ms = std::chrono::duration<double, std::milli>;
  std::printf("after kill -9: waiting send failed in %.1f ms, on_failure in %.1f ms\n",
              ms(since_kill(send_failed_at.load())).count(),
              ms(since_kill(failed_at.load())).count());
  const auto stats = peer.link->stats();
  EXPECT_TRUE(stats.peer_dead);
  EXPECT_EQ(stats.slots_in_flight, 0u); // INV-SLOT-06: every slot reclaimed
  EXPECT_EQ(stats.failure, error::connection_failed);
  const auto after = peer.link->send(std::vector<std::byte>(10));
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error(), error::connection_failed);
  // INV-LIVE-05: nothing left in /dev/shm, by either process.
  EXPECT_FALSE(in_dev_shm(name));
  EXPECT_TRUE(segments_of(peer.child->pid()).empty());
  EXPECT_TRUE(segments_of(::getpid()).empty());
}

TEST_P(process_test, closing_while_the_peer_floods_us_returns_promptly) {
  // INV-LIVE-03: our receiver stops between batches, whatever the peer does.
  std::atomic<std::uint64_t> received{0};
  shm::link_handlers handlers{
      [&](std::span<const std::byte>) { received.fetch_add(1, std::memory_order_relaxed); },
      nullptr};
  auto peer = start_peer(we_create(), {"flood"}, std::move(handlers));
  ASSERT_TRUE(peer.link);
  ASSERT_TRUE(peer.child->wait_for_output("ready", 30s));
  const auto flooding = clock_type::now() + 30s;
  while (received.load() < 10'000 && clock_type::now() < flooding)
    std::this_thread::sleep_for(1ms);
  ASSERT_GE(received.load(), 10'000u);
  const std::string name = peer.link->name();
  const auto start = clock_type::now();
  peer.link->close();
  EXPECT_LT(clock_type::now() - start, 1s);
  EXPECT_EQ(peer.link->stats().failure, error::transport_closed);
  peer.link.reset();
  EXPECT_FALSE(in_dev_shm(name));
}

TEST(process_test_heartbeat, a_stopped_peer_is_declared_dead_by_its_heartbeat) {
  // INV-LIVE-02: SIGSTOP keeps the liveness socket open; only the heartbeat
  // tells.
  shm::link_config config;
  config.peer_timeout = 500ms;
  recorder events;
  auto peer = start_peer(true, {"idle"}, events.handlers(), config);
  ASSERT_TRUE(peer.link);
  ASSERT_TRUE(peer.child->wait_for_output("ready", 30s));
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(events.failure().has_value());
  const auto stopped = clock_type::now();
  ASSERT_TRUE(peer.child->kill(SIGSTOP));
  const auto failure = events.wait_for_failure(5s);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(*failure, error::connection_failed);
  // peer_timeout + one heartbeat interval, and slack for a busy machine.
  EXPECT_LT(clock_type::now() - stopped, 1500ms);
  EXPECT_TRUE(peer.link->stats().peer_dead);
  EXPECT_FALSE(in_dev_shm(peer.link->name()));
}

} // namespace
