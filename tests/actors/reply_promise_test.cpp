// Scenarios of reply_promise: every promise resolves exactly once, and one
// dropped unanswered — wherever its last copy was — breaks.

#include "test_requests.hpp"

#include <future>

namespace grainflow::test {
namespace {

using reply_promise_test = actor_test;

TEST_P(reply_promise_test, a_handler_that_drops_the_promise_breaks_it) {
  auto server = spawn_server();
  auto answer = server.drop.get_reply({}).get(test_timeout);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), error::broken_promise);
  EXPECT_EQ(counts_.drop, 1);
}

TEST_P(reply_promise_test, an_actor_that_dies_holding_promises_breaks_them) {
  auto server = spawn_server();
  std::vector<reply_future<std::int32_t>> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(server.hold.get_reply({i, {}}));
  // Once this is answered the holds before it were handled and kept.
  ASSERT_TRUE(server.add.get_reply({0, 0, {}}).get(test_timeout));
  caf::scoped_actor self{node_->system()};
  self->send_exit(server.actor, caf::exit_reason::user_shutdown);
  for (auto& future : held) {
    auto answer = future.get(test_timeout);
    ASSERT_FALSE(answer);
    EXPECT_EQ(answer.error(), error::broken_promise);
  }
}

/// Blocks in its first message until `gate` opens, so that what is sent
/// meanwhile waits in the mailbox, then quits with it still queued.
caf::behavior gated_actor(caf::event_based_actor* self, std::shared_future<void> gate,
                          handler_counts* counts) {
  return {
      [self, gate](caf::ok_atom) {
        gate.wait();
        self->quit();
      },
      [counts](add_request& request) {
        ++counts->add;
        request.reply.send(request.a + request.b);
      },
  };
}

TEST_P(reply_promise_test, an_actor_that_dies_with_requests_in_its_mailbox_breaks_them) {
  std::promise<void> open;
  auto actor = node_->system().spawn(gated_actor, open.get_future().share(), &counts_);
  auto stream = serve<add_request>(actor, node_->transport()).value();
  caf::scoped_actor self{node_->system()};
  self->send(actor, caf::ok_atom::value);
  std::vector<reply_future<std::int32_t>> queued;
  for (int i = 0; i < 3; ++i)
    queued.push_back(stream.get_reply({i, i, {}}));
  open.set_value();
  for (auto& future : queued) {
    auto answer = future.get(test_timeout);
    ASSERT_FALSE(answer);
    EXPECT_EQ(answer.error(), error::broken_promise);
  }
  EXPECT_EQ(counts_.add, 0);
}

/// Keeps each request only as bytes: the request object, and the promise
/// in it, are destroyed at the end of the handler.
caf::behavior relay_actor(caf::stateful_actor<std::vector<std::byte>>* self,
                          flow_transport* transport) {
  return {
      [self](hold_request& request) { self->state = to_bytes(request).value(); },
      [self, transport](release_all_request& request) {
        auto revived = from_bytes<hold_request>(*transport, self->state);
        revived.value().reply.send(revived.value().id * 2);
        request.reply.send(1);
      },
  };
}

TEST_P(reply_promise_test, a_promise_that_travelled_does_not_break_with_its_original) {
  auto actor = node_->system().spawn(relay_actor, &node_->transport());
  auto hold = serve<hold_request>(actor, node_->transport()).value();
  auto release = serve<release_all_request>(actor, node_->transport()).value();
  auto held = hold.get_reply({21, {}});
  ASSERT_TRUE(release.get_reply({}).get(test_timeout));
  auto answer = held.get(test_timeout);
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_EQ(answer.value(), 42);
}

TEST_P(reply_promise_test, copies_share_one_answer_and_dropping_them_afterwards_breaks_nothing) {
  auto server = spawn_server();
  auto first = server.hold.get_reply({7, {}});
  auto second = server.hold.get_reply({8, {}});
  auto released = server.release_all.get_reply({}).get(test_timeout);
  ASSERT_TRUE(released);
  EXPECT_EQ(released.value(), 2);
  EXPECT_EQ(first.get(test_timeout).value(), 0);
  EXPECT_EQ(second.get(test_timeout).value(), 1);
}

INSTANTIATE_TEST_SUITE_P(both_paths, reply_promise_test, ::testing::Bool(), path_name);

/// A promise on its own: no actor, no transport routing.
reply_promise<std::int32_t> lone_promise(reply_future<std::int32_t>& future) {
  auto state = make_intrusive<detail::reply_state<std::int32_t>>(nullptr, std::nullopt);
  future = reply_future<std::int32_t>{state};
  return reply_promise<std::int32_t>{state};
}

TEST(reply_promise_alone, the_last_copy_dropped_unanswered_breaks_the_promise) {
  reply_future<std::int32_t> future;
  {
    auto promise = lone_promise(future);
    auto copy = promise;
    auto moved = std::move(copy);
  }
  EXPECT_EQ(future.get().error(), error::broken_promise);
}

TEST(reply_promise_alone, an_answer_is_seen_by_the_future) {
  reply_future<std::int32_t> future;
  lone_promise(future).send(7);
  EXPECT_EQ(future.get().value(), 7);
}

TEST(reply_promise_alone, an_empty_promise_answers_nobody) {
  reply_promise<std::int32_t> empty;
  EXPECT_FALSE(empty.valid());
  empty.send(1); // no effect, no report: send() leaves promises empty
  EXPECT_FALSE(empty.answered());
}

#ifndef NDEBUG
TEST(reply_promise_alone_death, answering_twice_aborts_in_debug_builds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        reply_future<std::int32_t> future;
        auto promise = lone_promise(future);
        promise.send(1);
        promise.send(2);
      },
      "answered twice");
}
#else
TEST(reply_promise_alone, answering_twice_keeps_the_first_answer_in_release_builds) {
  reply_future<std::int32_t> future;
  auto promise = lone_promise(future);
  promise.send(1);
  promise.send(2);
  EXPECT_EQ(future.get().value(), 1);
}
#endif

} // namespace
} // namespace grainflow::test
