// Scenario: a server process is killed and started again on the same port.
// The new process is a new incarnation: calls that were waiting on the old one
// fail at once when the client meets the new one (not at the end of the resume
// window), calls to the old endpoints fail with endpoint_not_found (tokens
// carry random bits, so the new process's endpoint map refuses them), and the
// new process's endpoints work.

#include "process/process_fixture.hpp"

#include <csignal>

namespace grainflow::process_test {
namespace {

class restart_test : public process_test {};

TEST_F(restart_test, old_endpoints_fail_with_endpoint_not_found_and_new_ones_work) {
  // A resume window far longer than the test's bound: a waiting call may only
  // fail in time because the client notices the new incarnation.
  start_client(quick_transport(20s));
  auto first = start_server();
  ASSERT_TRUE(first);
  auto port = first->port();
  auto old_add = stream<add_request>(*first, stream_names::add);
  auto old_hold = stream<hold_request>(*first, stream_names::hold);
  ASSERT_EQ(old_add.get_reply({1, 1, {}}).get(hang_bound).value(), 2);
  auto waiting = old_hold.get_reply({1, {}});
  auto waiting_fast = old_hold.try_get_reply({2, {}});
  auto holding = stats_of(*first);
  ASSERT_TRUE(holding);
  ASSERT_EQ(holding.value().hold_runs, 2u);

  auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(first->kill(SIGKILL));
  ASSERT_TRUE(first->wait(hang_bound));
  auto second = start_server({"--port", std::to_string(port)});
  ASSERT_TRUE(second) << "could not restart on port " << port;
  ASSERT_EQ(second->port(), port);

  auto fast = waiting_fast.get(hang_bound);
  ASSERT_FALSE(fast);
  EXPECT_EQ(fast.error(), error::request_maybe_delivered) << describe(fast.error());
  auto resumed = waiting.get(hang_bound);
  ASSERT_FALSE(resumed);
  EXPECT_EQ(resumed.error(), error::request_maybe_delivered) << describe(resumed.error());
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 5s)
      << "the get_reply waiting on the killed process ended " << ms_since(killed_at)
      << " ms after the kill: the new incarnation should have ended it";

  for (bool resume : {true, false}) {
    SCOPED_TRACE(resume ? "get_reply" : "try_get_reply");
    auto stale = resume ? old_add.get_reply({2, 2, {}}).get(hang_bound)
                        : old_add.try_get_reply({2, 2, {}}).get(hang_bound);
    ASSERT_FALSE(stale) << "an old endpoint was served by the new process";
    EXPECT_EQ(stale.error(), error::endpoint_not_found) << describe(stale.error());
  }
  // send() to an old endpoint is certainly harmless: the handler never runs.
  ASSERT_TRUE(old_add.send({3, 3, {}}));

  auto new_add = stream<add_request>(*second, stream_names::add);
  EXPECT_EQ(new_add.get_reply({2, 2, {}}).get(hang_bound).value(), 4);
  EXPECT_EQ(new_add.try_get_reply({3, 4, {}}).get(hang_bound).value(), 7);
  auto stats = stats_of(*second);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats.value().add_runs, 2u) << "the new process ran a request meant for the old one";
  EXPECT_EQ(stats.value().hold_runs, 0u);
}

} // namespace
} // namespace grainflow::process_test
