// shm-link: the shared-memory link alone, between this process and a server
// child. Depth 1: a 64-byte ping goes out, the server sends it back, and the
// next one leaves from inside the reply's handler (no thread hand-off on
// either side). Depth 64: 64-byte messages one way as fast as the link
// takes them, with the ring as the window: a 64-byte message travels inline
// in two ring entries, and the ring holds 128, so at most 64 messages are in
// flight. The server counts them and answers the end marker with its count.

#include "shm_bench.hpp"

#include "bench_report.hpp"
#include "child_process.hpp"
#include "remote_bench.hpp"

#include "grainflow/shm/descriptor.hpp"
#include "grainflow/shm/doorbell.hpp"
#include "grainflow/shm/link.hpp"
#include "grainflow/shm/rendezvous.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string_view>
#include <vector>

#include <pthread.h>
#include <unistd.h>

namespace grainflow::bench {

namespace {

using namespace std::chrono_literals;

constexpr std::string_view serve_kind = "shm-link";
constexpr std::size_t message_size = 64;
constexpr int window = 64;

/// What a message is, by its first byte.
enum class kind : char { ping = 'P', data = 'T', end = 'E' };

/// The link of both sides: a ring of `window` messages of 64 bytes (two
/// entries each), so the one-way run never has more than 64 in flight;
/// default slots.
shm::link_config bench_config() {
  static_assert(shm::inline_entries(message_size) == 2);
  shm::link_config config;
  config.segment.ring_capacity = window * shm::inline_entries(message_size);
  return config;
}

std::vector<std::byte> message_of(kind k) {
  std::vector<std::byte> m(message_size, std::byte{0});
  m[0] = static_cast<std::byte>(k);
  return m;
}

// -- the server -----------------------------------------------------------------

result<void> serve(int report_fd) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);
  const std::string rendezvous = "grainflow-bench-" + std::to_string(::getpid());
  auto listener = shm::link_listener::listen(rendezvous);
  if (!listener)
    return listener.error();
  // The handler may run before accept() returns: it waits for the pointer.
  std::atomic<shm::link*> self{nullptr};
  std::uint64_t counted = 0;
  shm::link_handlers handlers{[&](std::span<const std::byte> m) {
                                if (m.empty())
                                  return;
                                shm::link* l = nullptr;
                                while ((l = self.load(std::memory_order_acquire)) == nullptr)
                                  shm::cpu_relax();
                                switch (static_cast<kind>(m[0])) {
                                case kind::ping:
                                  (void)l->send(m);
                                  break;
                                case kind::data:
                                  ++counted;
                                  break;
                                case kind::end: {
                                  auto reply = message_of(kind::end);
                                  std::memcpy(reply.data() + 8, &counted, sizeof counted);
                                  counted = 0;
                                  (void)l->send(reply);
                                  break;
                                }
                                }
                              },
                              nullptr};
  if (auto reported = report_to_parent(report_fd, "rendezvous=" + rendezvous); !reported)
    return reported.error();
  auto link = listener.value().accept(bench_config(), std::move(handlers),
                                      std::chrono::steady_clock::now() + 10s);
  if (!link)
    return link.error();
  self.store(link.value().get(), std::memory_order_release);
  int signal = 0;
  ::sigwait(&term, &signal);
  return success();
}

// -- the client -----------------------------------------------------------------

/// What the client's handler does with replies.
struct client {
  std::atomic<shm::link*> link{nullptr};
  /// Round trips still to make in the current depth-1 run.
  std::uint64_t pings_left = 0;
  std::promise<void> pings_done;
  std::promise<std::uint64_t> end_reply;
  std::vector<std::byte> ping = message_of(kind::ping);

  void on_message(std::span<const std::byte> m) {
    if (m.empty())
      return;
    if (static_cast<kind>(m[0]) == kind::ping) {
      if (--pings_left == 0)
        pings_done.set_value();
      else
        (void)link.load(std::memory_order_acquire)->send(ping);
    } else if (static_cast<kind>(m[0]) == kind::end) {
      std::uint64_t count = 0;
      std::memcpy(&count, m.data() + 8, sizeof count);
      end_reply.set_value(count);
    }
  }
};

measurement measure_round_trips(client& c, std::uint64_t n) {
  c.pings_left = n;
  c.pings_done = {};
  auto done = c.pings_done.get_future();
  const auto start = std::chrono::steady_clock::now();
  if (auto sent = c.link.load()->send(c.ping); !sent) {
    std::fprintf(stderr, "bench=shm-link error=%s\n", sent.error().message().c_str());
    return {};
  }
  if (done.wait_for(60s) != std::future_status::ready) {
    std::fprintf(stderr, "bench=shm-link error=round trips stalled\n");
    return {};
  }
  return {"shm-link", 1, n, seconds_since(start)};
}

measurement measure_one_way(client& c, std::uint64_t n) {
  c.end_reply = {};
  auto reply = c.end_reply.get_future();
  auto data = message_of(kind::data);
  shm::link& l = *c.link.load();
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    if (auto sent = l.send(data); !sent) {
      std::fprintf(stderr, "bench=shm-link error=%s\n", sent.error().message().c_str());
      return {};
    }
  }
  (void)l.send(message_of(kind::end));
  if (reply.wait_for(60s) != std::future_status::ready) {
    std::fprintf(stderr, "bench=shm-link error=no end reply\n");
    return {};
  }
  const double seconds = seconds_since(start);
  if (const auto counted = reply.get(); counted != n) {
    std::fprintf(stderr, "bench=shm-link error=server counted %llu of %llu\n",
                 static_cast<unsigned long long>(counted), static_cast<unsigned long long>(n));
    return {};
  }
  return {"shm-link", window, n, seconds};
}

template <class Measure>
measurement best_of_three(Measure&& measure, std::uint64_t n) {
  (void)measure(n / 10); // warm-up: pages touched, threads running
  measurement best;
  for (int run = 0; run < 3; ++run) {
    auto m = measure(n);
    if (m.n == 0)
      return m;
    best = faster(best, m);
  }
  return best;
}

} // namespace

bool serve_shm_link(int argc, char** argv) {
  return serve_if_asked(argc, argv, serve_kind, serve);
}

void run_shm(bool quick) {
  auto child = child_process::spawn_self({"--serve", std::string{serve_kind}});
  if (!child) {
    std::fprintf(stderr, "bench=shm-link error=%s\n", child.error().message().c_str());
    return;
  }
  auto line = child.value().read_line(10s);
  constexpr std::string_view prefix = "rendezvous=";
  if (!line || !line.value().starts_with(prefix)) {
    std::fprintf(stderr, "bench=shm-link error=no rendezvous from the server\n");
    return;
  }
  client c;
  shm::link_handlers handlers{[&c](std::span<const std::byte> m) { c.on_message(m); }, nullptr};
  auto link = shm::connect_link(line.value().substr(prefix.size()), bench_config(),
                                std::move(handlers), std::chrono::steady_clock::now() + 10s);
  if (!link) {
    std::fprintf(stderr, "bench=shm-link error=%s\n", link.error().message().c_str());
    return;
  }
  c.link.store(link.value().get(), std::memory_order_release);
  const auto round_trips = best_of_three([&](std::uint64_t n) { return measure_round_trips(c, n); },
                                         quick ? 20'000 : 200'000);
  if (round_trips.n != 0)
    print(round_trips);
  const auto one_way = best_of_three([&](std::uint64_t n) { return measure_one_way(c, n); },
                                     quick ? 500'000 : 5'000'000);
  if (one_way.n != 0)
    print(one_way);
  // GRAINFLOW_BENCH_SHM_STATS=1: how often the sides waited and slept, to
  // tell a slow link from a busy machine (on stderr, outside the report).
  if (std::getenv("GRAINFLOW_BENCH_SHM_STATS") != nullptr) {
    const auto st = link.value()->stats();
    std::fprintf(stderr,
                 "shm-link stats: sent=%llu waits_for_room=%llu receiver_sleeps=%llu "
                 "wakeups_issued=%llu\n",
                 static_cast<unsigned long long>(st.messages_sent),
                 static_cast<unsigned long long>(st.waits_for_room),
                 static_cast<unsigned long long>(st.receiver_sleeps),
                 static_cast<unsigned long long>(st.wakeups_issued));
  }
  link.value().reset();
  (void)child.value().terminate();
  // The whole stack: get_reply over the link the transports chose, beside
  // the same calls with TCP forced.
  std::vector<measurement> results;
  run_grainflow_pair(false, quick, results);
  run_grainflow_pair(true, quick, results);
  print_ratios(results, "grainflow-shm", "grainflow-tcp");
}

} // namespace grainflow::bench
