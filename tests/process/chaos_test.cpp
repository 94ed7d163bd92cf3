// Scenario: thousands of get_reply calls cross a chaos proxy that cuts the
// connection between the client and the server process at seeded random
// points, with RSTs and FINs, in both directions. The reliable session must
// ride over every cut (resume_window 10 s): every call resolves exactly once
// with its own correct answer, and the server's handler sees every request
// exactly once (the server counts runs per request id).
//
// Topology: the client reaches the server only through the proxy — its
// stream's endpoint carries the proxy's port and the server's token. The
// server files the proxied connection under the client's canonical address
// (from its handshake), so replies travel back through the proxy too: cuts
// hit requests and replies, and both sides replay (the printed line shows
// each side's reconnects and replays). When the server's side of the session
// redials after a cut, it dials the client's canonical address directly,
// bypassing the proxy; what the client makes of that dial is the subject of
// proxied_connection_test below.

#include "process/process_fixture.hpp"
#include "support/chaos_proxy.hpp"

#include <cstdio>
#include <deque>
#include <thread>

namespace grainflow::process_test {
namespace {

constexpr std::size_t callers = 3;
constexpr std::size_t calls_per_caller = 1000;
constexpr std::size_t window_per_caller = 100;

/// The proxy's plan: a cut every 0..16 KiB of one direction's bytes (a few
/// dozen over the run), half of them resets, at most 40 so that the run
/// stays short.
test::chaos_schedule schedule_for(std::uint64_t seed) {
  test::chaos_schedule schedule;
  schedule.seed = seed;
  schedule.min_bytes_before_cut = 0;
  schedule.max_bytes_before_cut = 16 * 1024;
  schedule.reset_probability = 0.5;
  schedule.max_cuts = 40;
  return schedule;
}

/// What one caller thread saw.
struct caller_report {
  std::size_t answered = 0;
  std::vector<std::string> problems; // the first few, for the failure message
};

/// Makes `calls_per_caller` tagged calls with ids `first_id`..., keeping
/// `window_per_caller` in flight, and checks each answer.
caller_report run_caller(const request_stream<tagged_request>& tagged, std::uint64_t first_id) {
  caller_report report;
  auto note = [&](std::string problem) {
    if (report.problems.size() < 5)
      report.problems.push_back(std::move(problem));
  };
  std::deque<std::pair<std::uint64_t, reply_future<std::int64_t>>> in_flight;
  auto value_of = [](std::uint64_t id) { return static_cast<std::int64_t>(id % 977) - 400; };
  auto collect = [&] {
    auto& [id, future] = in_flight.front();
    auto answer = future.get(hang_bound);
    if (!answer)
      note("call " + std::to_string(id) + ": " + describe(answer.error()));
    else if (answer.value() != tagged_answer(id, value_of(id)))
      note("call " + std::to_string(id) + ": a wrong answer");
    else
      ++report.answered;
    in_flight.pop_front();
  };
  for (std::uint64_t id = first_id; id < first_id + calls_per_caller; ++id) {
    if (in_flight.size() == window_per_caller)
      collect();
    in_flight.emplace_back(id, tagged.get_reply({id, value_of(id), {}}));
  }
  while (!in_flight.empty())
    collect();
  return report;
}

/// Sums of the client's peer_stats.
struct peer_totals {
  std::uint64_t reconnects = 0;
  std::uint64_t retransmits = 0;
  std::uint64_t protocol_errors = 0;
};

peer_totals totals(const std::vector<peer_stats>& peers) {
  peer_totals out;
  for (const auto& each : peers) {
    out.reconnects += each.reconnects;
    out.retransmits += each.retransmits;
    out.protocol_errors += each.protocol_errors;
  }
  return out;
}

class chaos_test : public process_test, public ::testing::WithParamInterface<std::uint64_t> {};

TEST_P(chaos_test, every_get_reply_resolves_once_and_no_handler_runs_twice) {
  // The client listens behind a second chaos proxy and advertises it, so the
  // server's own reconnects (which carry the replies' replay) cross a proxy
  // too: no path between the two bypasses the cuts.
  std::string why;
  auto client_port = free_loopback_port();
  ASSERT_NE(client_port, 0) << "no free port";
  auto back_schedule = schedule_for(GetParam());
  back_schedule.seed += 1000;
  auto back_proxy = test::chaos_proxy::create(client_port, back_schedule, &why);
  ASSERT_TRUE(back_proxy) << why;
  auto client_transport = quick_transport(10s);
  client_transport.local_address = network_address::loopback_v4(client_port);
  client_transport.advertised_address = network_address::loopback_v4(back_proxy->port());
  // The proxies cut TCP: a shared-memory link would go around them (the
  // client not offering it is enough: neither side then offers).
  client_transport.use_shared_memory = false;
  start_client(client_transport);
  auto server = start_server({"--resume-window-ms", "10000"});
  ASSERT_TRUE(server);
  auto proxy = test::chaos_proxy::create(server->port(), schedule_for(GetParam()), &why);
  ASSERT_TRUE(proxy) << why;
  auto tagged = stream<tagged_request>(*server, stream_names::tagged, proxy->port());

  auto start = std::chrono::steady_clock::now();
  std::vector<caller_report> reports(callers);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < callers; ++i)
    threads.emplace_back([&, i] { reports[i] = run_caller(tagged, 1 + i * calls_per_caller); });
  for (auto& each : threads)
    each.join();
  auto took = ms_since(start);

  proxy->set_enabled(false); // a quiet line for the final question
  back_proxy->set_enabled(false);
  auto stats = stats_of(*server, proxy->port());
  ASSERT_TRUE(stats) << describe(stats.error());
  const auto& s = stats.value();
  auto client = totals(client_->transport().peers());
  std::printf("[ chaos    ] seed %llu: %zu cuts over %zu proxied connections, %lld ms; client: "
              "%llu reconnects, %llu replayed, %llu protocol errors; server: %llu reconnects, "
              "%llu replayed\n",
              static_cast<unsigned long long>(GetParam()), proxy->cuts(), proxy->connections(),
              took, static_cast<unsigned long long>(client.reconnects),
              static_cast<unsigned long long>(client.retransmits),
              static_cast<unsigned long long>(client.protocol_errors),
              static_cast<unsigned long long>(s.reconnects),
              static_cast<unsigned long long>(s.retransmits));

  for (std::size_t i = 0; i < callers; ++i) {
    EXPECT_EQ(reports[i].answered, calls_per_caller)
        << "caller " << i
        << ", first problem: " << (reports[i].problems.empty() ? "none" : reports[i].problems[0]);
  }
  const auto total = static_cast<std::uint64_t>(callers * calls_per_caller);
  EXPECT_EQ(s.tagged_duplicates, 0u) << "requests handled twice; first id: "
                                     << (s.duplicate_ids.empty() ? 0 : s.duplicate_ids.front());
  EXPECT_EQ(s.tagged_distinct, total) << "requests never handled";
  EXPECT_EQ(s.tagged_runs, total);
  EXPECT_GE(proxy->cuts() + back_proxy->cuts(), 5u)
      << "the proxies hardly cut: the run proves little";
  std::size_t cuts = 0;
  std::size_t resets = 0;
  std::size_t toward_server = 0;
  for (const auto* each : {proxy.get(), back_proxy.get()})
    for (const auto& cut : each->cut_log()) {
      ++cuts;
      resets += cut.plan.kind == test::cut_kind::reset ? 1 : 0;
      toward_server += cut.plan.direction == test::cut_direction::client_to_server ? 1 : 0;
    }
  EXPECT_GT(resets, 0u) << "no RST cut";
  EXPECT_LT(resets, cuts) << "no FIN cut";
  EXPECT_GT(toward_server, 0u) << "no cut in the dialer-to-listener direction";
  EXPECT_LT(toward_server, cuts) << "no cut in the listener-to-dialer direction";
}

INSTANTIATE_TEST_SUITE_P(seeds, chaos_test, ::testing::Values(1u, 2u, 3u),
                         [](const ::testing::TestParamInfo<std::uint64_t>& info) {
                           return "seed_" + std::to_string(info.param);
                         });

// Scenario: one cut, then a quiet, healthy line. The connection must settle:
// no more reconnects, and try_get_reply calls (which fail on any connection
// drop) all succeed. The proxy holds the client's reconnect back a little
// after the cut, so that the server's side of the session redials first —
// directly to the client's canonical address, as it does in the chaos runs
// above whenever it wins that race.
class proxied_connection_test : public process_test {};

TEST_F(proxied_connection_test, settles_after_a_cut_once_the_line_is_quiet) {
  auto client_transport = quick_transport(10s);
  client_transport.use_shared_memory = false; // the proxy cuts TCP only
  start_client(client_transport);
  auto server = start_server({"--resume-window-ms", "10000"});
  ASSERT_TRUE(server);
  test::chaos_schedule one_cut;
  one_cut.seed = 7;
  one_cut.min_bytes_before_cut = 4096;
  one_cut.max_bytes_before_cut = 4096;
  one_cut.max_cuts = 1;
  one_cut.pause_after_cut = 300ms;
  std::string why;
  auto proxy = test::chaos_proxy::create(server->port(), one_cut, &why);
  ASSERT_TRUE(proxy) << why;
  auto tagged = stream<tagged_request>(*server, stream_names::tagged, proxy->port());
  std::vector<reply_future<std::int64_t>> futures;
  for (std::uint64_t id = 1; id <= 200; ++id)
    futures.push_back(tagged.get_reply({id, 0, {}}));
  for (std::uint64_t id = 1; id <= 200; ++id) {
    auto answer = futures[id - 1].get(hang_bound);
    ASSERT_TRUE(answer) << "call " << id << ": " << describe(answer.error());
    ASSERT_EQ(answer.value(), tagged_answer(id, 0));
  }
  ASSERT_EQ(proxy->cuts(), 1u);

  std::this_thread::sleep_for(500ms); // time to settle after the cut
  auto settled = totals(client_->transport().peers());
  auto add = stream<add_request>(*server, stream_names::add, proxy->port());
  // Back to back, so that a call is in flight whenever a connection drops.
  std::size_t calls = 0;
  std::size_t failed = 0;
  std::string first_failure;
  auto quiet_until = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < quiet_until) {
    ++calls;
    auto sum = add.try_get_reply({1, 2, {}}).get(hang_bound);
    if (!sum && failed++ == 0)
      first_failure = describe(sum.error());
  }
  auto after = totals(client_->transport().peers());
  std::string peers;
  for (const auto& each : client_->transport().peers())
    peers += " " + each.address.to_string() + " (reconnects " + std::to_string(each.reconnects) +
             ", protocol errors " + std::to_string(each.protocol_errors) + ")";
  EXPECT_EQ(failed, 0u) << failed << " of " << calls
                        << " try_get_reply calls failed on a quiet line, the first with "
                        << first_failure;
  EXPECT_EQ(after.reconnects, settled.reconnects)
      << "the client kept reconnecting on a quiet line. Client " << client_->address().to_string()
      << ", proxy port " << proxy->port() << ", server port " << server->port()
      << "; the client's peers:" << peers
      << ". A second peer, keyed by the server's canonical address, holds the session's key "
         "without its state: its handshakes fail, and each one displaces the server's end of "
         "the proxied connection.";
  EXPECT_EQ(after.protocol_errors, settled.protocol_errors)
      << "handshakes kept failing on a quiet line; the client's peers:" << peers;
}

} // namespace
} // namespace grainflow::process_test
