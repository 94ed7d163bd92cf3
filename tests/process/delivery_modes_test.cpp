// Scenario: a client process calls a server process in every delivery mode —
// send, get_reply, try_get_reply, each with and without a deadline — and gets
// what each mode promises (docs/guide/defining-actors-and-interfaces.md, §5):
// answers, the server's own errors (broken_promise), timed_out at the
// deadline, and no handler run for a request whose deadline passed before it
// arrived.

#include "process/process_fixture.hpp"

#include <thread>

namespace grainflow::process_test {
namespace {

class delivery_modes_test : public process_test {
protected:
  void SetUp() override {
    start_client(quick_transport(5s));
    server_ = start_server();
  }

  /// Polls the server's stats until `done(stats)` holds (true) or `within`
  /// passes (false): for effects of send(), which has no answer to wait for.
  template <class Pred>
  bool eventually(Pred done, std::chrono::milliseconds within) {
    auto give_up = std::chrono::steady_clock::now() + within;
    do {
      auto stats = stats_of(*server_);
      if (stats && done(stats.value()))
        return true;
      std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < give_up);
    return false;
  }

  std::unique_ptr<node_process> server_;
};

TEST_F(delivery_modes_test, get_reply_and_try_get_reply_answer_across_processes) {
  ASSERT_TRUE(server_);
  auto add = stream<add_request>(*server_, stream_names::add);
  EXPECT_EQ(add.get_reply({2, 3, {}}).get(hang_bound).value(), 5);
  EXPECT_EQ(add.try_get_reply({4, 5, {}}).get(hang_bound).value(), 9);
  // Many at once: each future gets its own answer, in whatever order.
  std::vector<reply_future<std::int32_t>> futures;
  for (std::int32_t i = 0; i < 500; ++i)
    futures.push_back(i % 2 == 0 ? add.get_reply({i, 1, {}}) : add.try_get_reply({i, 1, {}}));
  for (std::int32_t i = 0; i < 500; ++i) {
    auto sum = futures[static_cast<std::size_t>(i)].get(hang_bound);
    ASSERT_TRUE(sum) << "call " << i << ": " << describe(sum.error());
    ASSERT_EQ(sum.value(), i + 1);
  }
  auto stats = stats_of(*server_);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats.value().add_runs, 502u);
}

TEST_F(delivery_modes_test, send_reaches_the_handler_without_an_answer) {
  ASSERT_TRUE(server_);
  auto add = stream<add_request>(*server_, stream_names::add);
  // send() is at most once and unreliable packets are dropped while the peer
  // is not connected (ARCHITECTURE.md, "The transport"): connect first, so
  // the sends below are expected to arrive.
  ASSERT_TRUE(add.get_reply({0, 0, {}}).get(hang_bound));
  for (std::int32_t i = 0; i < 20; ++i)
    ASSERT_TRUE(add.send({i, i, {}}));
  EXPECT_TRUE(eventually([](const node_stats& s) { return s.add_runs == 21; }, 5000ms))
      << "the server did not see the 20 sends on a healthy connection";
}

TEST_F(delivery_modes_test, a_dropped_promise_breaks_across_processes) {
  ASSERT_TRUE(server_);
  auto drop = stream<drop_request>(*server_, stream_names::drop);
  auto answer = drop.get_reply({}).get(hang_bound);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), error::broken_promise) << describe(answer.error());
  auto fast = drop.try_get_reply({}).get(hang_bound);
  ASSERT_FALSE(fast);
  EXPECT_EQ(fast.error(), error::broken_promise) << describe(fast.error());
}

TEST_F(delivery_modes_test, a_deadline_ends_a_waiting_call_with_timed_out) {
  ASSERT_TRUE(server_);
  auto hold = stream<hold_request>(*server_, stream_names::hold);
  for (bool resume : {true, false}) {
    SCOPED_TRACE(resume ? "get_reply" : "try_get_reply");
    auto start = std::chrono::steady_clock::now();
    auto options = call_options::within(200ms);
    auto answer = resume ? hold.get_reply({1, {}}, options).get(hang_bound)
                         : hold.try_get_reply({2, {}}, options).get(hang_bound);
    auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(answer);
    EXPECT_EQ(answer.error(), error::timed_out) << describe(answer.error());
    EXPECT_GE(waited, 200ms);
    EXPECT_LT(waited, 1500ms) << "timed_out came " << ms_since(start) << " ms after the call";
  }
  // The server did get both (their deadlines had not passed on arrival); its
  // late answers find no caller and are dropped.
  auto release = stream<release_request>(*server_, stream_names::release);
  EXPECT_EQ(release.get_reply({}).get(hang_bound).value(), 2);
  // A deadline that does not pass changes nothing.
  auto add = stream<add_request>(*server_, stream_names::add);
  EXPECT_EQ(add.get_reply({20, 22, {}}, call_options::within(5s)).get(hang_bound).value(), 42);
  EXPECT_EQ(add.try_get_reply({1, 2, {}}, call_options::within(5s)).get(hang_bound).value(), 3);
}

TEST_F(delivery_modes_test, a_request_whose_deadline_passed_never_reaches_the_handler) {
  ASSERT_TRUE(server_);
  auto add = stream<add_request>(*server_, stream_names::add);
  ASSERT_TRUE(add.get_reply({0, 0, {}}).get(hang_bound)); // connected
  auto past = call_options::until(std::chrono::steady_clock::now() - 1ms);
  auto late = add.get_reply({1, 1, {}}, past).get(hang_bound);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), error::timed_out) << describe(late.error());
  auto late_fast = add.try_get_reply({1, 1, {}}, past).get(hang_bound);
  ASSERT_FALSE(late_fast);
  EXPECT_EQ(late_fast.error(), error::timed_out) << describe(late_fast.error());
  ASSERT_TRUE(add.send({1, 1, {}}, past));
  // The stats request travels behind the three on the same session and the
  // same actor: had any of them been handled, add_runs would show it.
  auto stats = stats_of(*server_);
  ASSERT_TRUE(stats) << describe(stats.error());
  EXPECT_EQ(stats.value().add_runs, 1u)
      << "a request that arrived after its deadline reached the handler";
}

TEST_F(delivery_modes_test, an_unknown_token_answers_endpoint_not_found) {
  ASSERT_TRUE(server_);
  auto real = server_->stream(stream_names::add);
  // A token the server never issued, at its real address.
  request_stream<add_request> bogus{client_->transport(),
                                    endpoint{real.address, uid{real.token.first ^ 1, 7}}};
  for (bool resume : {true, false}) {
    SCOPED_TRACE(resume ? "get_reply" : "try_get_reply");
    auto answer = resume ? bogus.get_reply({1, 1, {}}).get(hang_bound)
                         : bogus.try_get_reply({1, 1, {}}).get(hang_bound);
    ASSERT_FALSE(answer);
    EXPECT_EQ(answer.error(), error::endpoint_not_found) << describe(answer.error());
  }
}

} // namespace
} // namespace grainflow::process_test
