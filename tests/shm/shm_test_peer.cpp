// shm_test_peer: the other process of process_test.cpp.
//
// Usage: shm_test_peer <create|open> <rendezvous name> <scenario> [args]
//   stress <count> <send seed> <receive seed>
//       sends `count` stress messages of one stream, receives and checks
//       `count` of the other, prints "done" and closes; exit code 1 on any
//       mismatch.
//   flood
//       prints "ready", then sends until the link fails; its handler blocks
//       for good on the first message it receives, so the other side's
//       sends soon wait for room.
//   idle
//       prints "ready" and waits to be killed or stopped.
// `create` listens on the rendezvous and creates the segment (printing
// "listening" first); `open` connects and opens it.

#include "grainflow/shm/link.hpp"
#include "grainflow/shm/rendezvous.hpp"

#include "stress_messages.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace grainflow;
using namespace std::chrono_literals;

[[noreturn]] void die(const char* what, std::error_code ec = {}) {
  std::fprintf(stderr, "shm_test_peer: %s%s%s\n", what, ec ? ": " : "", ec.message().c_str());
  std::exit(2);
}

void say(const char* line) {
  std::printf("%s\n", line);
  std::fflush(stdout);
}

std::unique_ptr<shm::link> join(std::string_view role, const std::string& rendezvous,
                                shm::link_handlers handlers) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  const shm::link_config config;
  if (role == "create") {
    auto listener = shm::link_listener::listen(rendezvous);
    if (!listener)
      die("listen", listener.error());
    say("listening");
    auto created = listener.value().accept(config, std::move(handlers), deadline);
    if (!created)
      die("accept", created.error());
    return std::move(created.value());
  }
  auto opened = shm::connect_link(rendezvous, config, std::move(handlers), deadline);
  if (!opened)
    die("connect", opened.error());
  return std::move(opened.value());
}

int stress(std::string_view role, const std::string& rendezvous, std::uint64_t count,
           std::uint64_t send_seed, std::uint64_t receive_seed) {
  std::atomic<std::uint64_t> received{0};
  std::atomic<bool> mismatch{false};
  // Both processes use the default geometry; the handler may run before
  // join() returns, so it cannot ask the link.
  const std::size_t max = shm::link_config{}.segment.slot_size;
  shm::link_handlers handlers{[&](std::span<const std::byte> message) {
                                const auto n = received.load(std::memory_order_relaxed);
                                if (!shm::test::stress_check(receive_seed, n, max, message) &&
                                    !mismatch.exchange(true))
                                  std::fprintf(stderr, "shm_test_peer: message %llu differs\n",
                                               static_cast<unsigned long long>(n));
                                received.store(n + 1, std::memory_order_release);
                              },
                              nullptr};
  auto link = join(role, rendezvous, std::move(handlers));
  if (link->max_message_size() != max)
    die("unexpected geometry");
  std::vector<std::byte> buffer(max);
  for (std::uint64_t n = 0; n < count; ++n) {
    const auto size = shm::test::stress_size(send_seed, n, max);
    shm::test::stress_fill(send_seed, n, {buffer.data(), size});
    if (auto sent = link->send({buffer.data(), size}); !sent)
      die("send", sent.error());
  }
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (received.load(std::memory_order_acquire) < count) {
    if (std::chrono::steady_clock::now() > deadline)
      die("timed out receiving");
    std::this_thread::sleep_for(1ms);
  }
  say("done");
  link->close();
  return mismatch.load() ? 1 : 0;
}

int flood(std::string_view role, const std::string& rendezvous) {
  shm::link_handlers handlers{[](std::span<const std::byte>) {
                                for (;;)
                                  std::this_thread::sleep_for(1h);
                              },
                              nullptr};
  auto link = join(role, rendezvous, std::move(handlers));
  say("ready");
  std::vector<std::byte> message(200, std::byte{7});
  for (std::uint64_t n = 0;; ++n) {
    message[0] = static_cast<std::byte>(n);
    if (!link->send(message))
      break;
  }
  for (;;)
    std::this_thread::sleep_for(1h);
}

int idle(std::string_view role, const std::string& rendezvous) {
  auto link = join(role, rendezvous, {});
  say("ready");
  for (;;)
    std::this_thread::sleep_for(1h);
}

std::uint64_t number(const char* text) {
  char* end = nullptr;
  const auto value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0')
    die("not a number");
  return value;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 4)
    die("usage: shm_test_peer <create|open> <rendezvous> <stress|flood|idle> [args]");
  const std::string_view role = argv[1];
  const std::string rendezvous = argv[2];
  const std::string_view scenario = argv[3];
  if (role != "create" && role != "open")
    die("the role is create or open");
  if (scenario == "stress" && argc == 7)
    return stress(role, rendezvous, number(argv[4]), number(argv[5]), number(argv[6]));
  if (scenario == "flood")
    return flood(role, rendezvous);
  if (scenario == "idle")
    return idle(role, rendezvous);
  die("unknown scenario");
}
