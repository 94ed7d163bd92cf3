// Scenarios of deadlines: the caller gets timed_out at the deadline, and a
// server does not start work whose deadline passed before it arrived.

#include "test_requests.hpp"

namespace grainflow::test {
namespace {

using deadline_test = actor_test;
using namespace std::chrono_literals;

TEST_P(deadline_test, a_call_the_server_sits_on_times_out_at_its_deadline) {
  auto server = spawn_server();
  auto start = std::chrono::steady_clock::now();
  auto answer = server.hold.get_reply({1, {}}, call_options::within(100ms)).get();
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), error::timed_out);
  EXPECT_GE(waited, 100ms);
  // The late answer goes nowhere and harms nothing.
  EXPECT_EQ(server.release_all.get_reply({}).get(test_timeout).value(), 1);
}

TEST_P(deadline_test, get_with_a_timeout_ends_the_wait_without_a_call_deadline) {
  auto server = spawn_server();
  auto answer = server.hold.get_reply({1, {}}).get(50ms);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), error::timed_out);
}

TEST_P(deadline_test, a_request_whose_deadline_passed_is_never_handled) {
  auto server = spawn_server();
  auto past = call_options::until(std::chrono::steady_clock::now() - 1ms);
  auto answer = server.hold.get_reply({1, {}}, past).get(test_timeout);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), error::timed_out);
  ASSERT_TRUE(server.hold.send({2, {}}, past));
  // FIFO per sender: once this is answered, anything before it was seen.
  ASSERT_TRUE(server.add.get_reply({0, 0, {}}).get(test_timeout));
  EXPECT_EQ(counts_.hold, 0);
}

TEST_P(deadline_test, a_deadline_that_has_not_passed_lets_the_call_through) {
  auto server = spawn_server();
  auto answer = server.add.get_reply({2, 2, {}}, call_options::within(10s)).get();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer.value(), 4);
}

/// Calls `hold` with a deadline and reports what its continuation saw.
caf::behavior impatient_actor(caf::event_based_actor* self, request_stream<hold_request> hold,
                              caf::actor report_to) {
  then(self, hold.get_reply({1, {}}, call_options::within(50ms)),
       [self, report_to](result<std::int32_t> answer) {
         self->send(report_to, answer ? std::string{"value"} : to_string_error(answer.error()));
         self->quit();
       });
  return {[](caf::ok_atom) {}};
}

TEST_P(deadline_test, the_deadline_fires_inside_the_calling_actor) {
  auto server = spawn_server();
  caf::scoped_actor self{node_->system()};
  node_->system().spawn(impatient_actor, server.hold, caf::actor{self});
  std::string got;
  self->receive([&](std::string& what) { got = what; }, caf::after(test_timeout) >> [] {});
  EXPECT_EQ(got, "timed_out");
}

INSTANTIATE_TEST_SUITE_P(both_paths, deadline_test, ::testing::Bool(), path_name);

} // namespace
} // namespace grainflow::test
