// Scenarios of request_stream's delivery modes, each run in-process and
// serialized (see test_requests.hpp).

#include "test_requests.hpp"

#include <thread>

namespace grainflow::test {
namespace {

using request_stream_test = actor_test;

TEST_P(request_stream_test, get_reply_delivers_the_handlers_answer) {
  auto server = spawn_server();
  auto answer = server.add.get_reply({2, 3, {}}).get(test_timeout);
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_EQ(answer.value(), 5);
  EXPECT_EQ(counts_.add, 1);
}

TEST_P(request_stream_test, try_get_reply_delivers_the_handlers_answer) {
  auto server = spawn_server();
  auto answer = server.add.try_get_reply({40, 2, {}}).get(test_timeout);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer.value(), 42);
}

TEST_P(request_stream_test, send_delivers_once_and_expects_no_answer) {
  auto server = spawn_server();
  ASSERT_TRUE(server.add.send({1, 1, {}}));
  // The mailbox is FIFO per sender: once this call is answered, the send
  // before it was handled.
  ASSERT_TRUE(server.add.get_reply({0, 0, {}}).get(test_timeout));
  EXPECT_EQ(counts_.add, 2);
}

TEST_P(request_stream_test, calls_from_many_threads_all_get_their_own_answer) {
  auto server = spawn_server();
  std::atomic<int> correct{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        auto answer = server.add.get_reply({t * 1000, i, {}}).get(test_timeout);
        if (answer && answer.value() == t * 1000 + i)
          ++correct;
      }
    });
  for (auto& caller : callers)
    caller.join();
  EXPECT_EQ(correct, 400);
}

TEST_P(request_stream_test, an_unknown_token_fails_with_endpoint_not_found) {
  auto server = spawn_server();
  auto forged = server.add.get_endpoint();
  forged.token.first ^= 0x5a5a;
  request_stream<add_request> stream{node_->transport(), forged};
  auto answer = stream.get_reply({1, 2, {}}).get(test_timeout);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), error::endpoint_not_found);
  EXPECT_EQ(stream.send({1, 2, {}}).error(), error::endpoint_not_found);
}

TEST_P(request_stream_test, a_terminated_actors_endpoints_are_gone) {
  auto server = spawn_server();
  ASSERT_TRUE(server.add.get_reply({1, 1, {}}).get(test_timeout));
  caf::scoped_actor self{node_->system()};
  self->send_exit(server.actor, caf::exit_reason::user_shutdown);
  self->wait_for(server.actor);
  // The endpoints go in the actor's cleanup, which may finish just after the
  // monitor reported the exit; a request in that window is dropped with the
  // mailbox (broken_promise). After it, the endpoint is gone for good.
  auto give_up = std::chrono::steady_clock::now() + test_timeout;
  while (node_->transport().find_local(server.add.get_endpoint()) &&
         std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  auto answer = server.add.get_reply({1, 1, {}}).get(test_timeout);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), error::endpoint_not_found);
}

TEST_P(request_stream_test, a_request_of_the_wrong_type_is_refused_and_the_server_lives_on) {
  auto server = spawn_server();
  request_stream<misshapen_request> wrong{node_->transport(), server.add.get_endpoint()};
  auto answer = wrong.get_reply({"one", "two", {}}).get(test_timeout);
  ASSERT_FALSE(answer);
  // In-process the type is checked before delivery; serialized, the body
  // does not decode and the server answers so.
  EXPECT_EQ(answer.error(), GetParam() ? error::serialization_failed : error::wrong_message_type);
  EXPECT_EQ(server.add.get_reply({1, 2, {}}).get(test_timeout).value(), 3);
  EXPECT_EQ(counts_.add, 1);
}

TEST_P(request_stream_test, garbage_payloads_are_counted_and_the_server_lives_on) {
  auto server = spawn_server();
  std::vector<std::vector<std::uint8_t>> garbage{
      {},                                               // no payload at all
      {0xc1},                                           // a byte msgpack never uses
      {0x93, 0x01},                                     // an array of 3, cut short
      {0x93, 0xc0, 0xc0, 0xdd, 0xff, 0xff, 0xff, 0xff}, // a body claiming 4 billion elements
      {0x92, 0x01, 0x02},                               // the wrong number of fields
  };
  for (const auto& bytes : garbage)
    (void)node_->transport().send_packet(server.add.get_endpoint(),
                                         [&](std::vector<std::byte>& out) {
                                           for (auto b : bytes)
                                             out.push_back(static_cast<std::byte>(b));
                                         });
  EXPECT_EQ(node_->transport().stats().undecodable_payloads, garbage.size());
  EXPECT_EQ(server.add.get_reply({1, 2, {}}).get(test_timeout).value(), 3);
  EXPECT_EQ(counts_.add, 1);
}

/// A client actor: calls `add` and reports the answer, from its own
/// continuation, to `report_to`.
caf::behavior calling_actor(caf::stateful_actor<int>* self, request_stream<add_request> add,
                            caf::actor report_to) {
  self->state = 0;
  then(self, add.get_reply({20, 22, {}}), [self, report_to](result<std::int32_t> answer) {
    // Runs inside the actor: its state is ours to touch without locks.
    self->state += answer ? answer.value() : -1;
    self->send(report_to, self->state);
    self->quit();
  });
  return {[](caf::ok_atom) {}};
}

TEST_P(request_stream_test, a_continuation_runs_inside_the_calling_actor) {
  auto server = spawn_server();
  caf::scoped_actor self{node_->system()};
  node_->system().spawn(calling_actor, server.add, caf::actor{self});
  int got = 0;
  self->receive([&](int value) { got = value; }, caf::after(test_timeout) >> [] {});
  EXPECT_EQ(got, 42);
}

/// A proxy keeps each caller's promise and answers it later, when its own
/// call to the adder completes (a deferred reply).
caf::behavior proxy_actor(caf::event_based_actor* self, request_stream<add_request> adder) {
  return {[self, adder](add_request& request) {
    auto promise = request.reply;
    then(self, adder.get_reply({request.a, request.b, {}}), [promise](result<std::int32_t> sum) {
      if (sum)
        promise.send(sum.value() * 10);
      else
        promise.send_error(sum.error());
    });
  }};
}

TEST_P(request_stream_test, a_kept_promise_is_answered_after_the_actors_own_call) {
  auto server = spawn_server();
  auto proxy = node_->system().spawn(proxy_actor, server.add);
  auto stream = serve<add_request>(proxy, node_->transport()).value();
  auto answer = stream.get_reply({1, 2, {}}).get(test_timeout);
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_EQ(answer.value(), 30);
}

INSTANTIATE_TEST_SUITE_P(both_paths, request_stream_test, ::testing::Bool(), path_name);

} // namespace
} // namespace grainflow::test
