// A node's network thread runs the actors its deliveries wake (see
// actors/src/network_execution_unit.hpp): a handler runs there without a CAF
// worker, an actor with a backlog moves on to a worker, and a handler that
// would wait there for an answer fails instead of hanging the node.

#include "test_requests.hpp"

#include "grainflow/actors/detail/network_thread.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace grainflow::test {
namespace {

using namespace std::chrono_literals;

/// Answers whether its handler ran on the network thread; spins `work_us`
/// first, so that a burst of them queues up.
struct where_request {
  std::int32_t work_us = 0;
  reply_promise<bool> reply;
  MSGPACK_DEFINE(work_us, reply)
};

/// Calls `target` and waits for the answer inside the handler.
struct wait_inside_request {
  request_stream<add_request> target;
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(target, reply)
};

/// Answered by a fresh adder, to which a blocking actor forwards it: both
/// spawned by the handler, so both start with the network thread's unit as
/// their context, and the blocking actor sends with it from its own thread.
struct via_blocking_request {
  std::int32_t a = 0;
  std::int32_t b = 0;
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(a, b, reply)
};

caf::behavior adder(caf::event_based_actor*) {
  return {[](add_request& request) { request.reply.send(request.a + request.b); }};
}

caf::behavior where_server(caf::event_based_actor* self) {
  return {
      [self](via_blocking_request& request) {
        auto answerer = self->spawn(adder);
        add_request forwarded{request.a, request.b, std::move(request.reply)};
        self->spawn([answerer, forwarded](caf::blocking_actor* forwarder) mutable {
          // Long enough for the adder to start and idle: the send below then
          // schedules it, through the context the forwarder was born with.
          std::this_thread::sleep_for(20ms);
          forwarder->send(answerer, std::move(forwarded));
        });
      },
      [](where_request& request) {
        auto until = std::chrono::steady_clock::now() + std::chrono::microseconds{request.work_us};
        while (std::chrono::steady_clock::now() < until) {
        }
        request.reply.send(detail::actors_run_on_this_thread());
      },
      [](wait_inside_request& request) {
        auto answer = request.target.get_reply({1, 2, {}}).get(test_timeout);
        request.reply.send(answer ? answer.value()
                                  : -static_cast<std::int32_t>(answer.error().value()));
      },
  };
}

transport_config loopback() {
  auto config = loopback_transport();
  config.use_shared_memory = false;
  return config;
}

class network_thread_test : public ::testing::Test {
protected:
  network_thread_test() {
    client_ = node::create_networked(client_config_, loopback()).value();
    server_ = node::create_networked(server_config_, loopback()).value();
    auto actor = server_->system().spawn(where_server);
    where_ = request_stream<where_request>{
        client_->transport(),
        serve<where_request>(actor, server_->transport()).value().get_endpoint()};
    via_blocking_ = request_stream<via_blocking_request>{
        client_->transport(),
        serve<via_blocking_request>(actor, server_->transport()).value().get_endpoint()};
    wait_inside_ = request_stream<wait_inside_request>{
        client_->transport(),
        serve<wait_inside_request>(actor, server_->transport()).value().get_endpoint()};
    settle();
  }

  ~network_thread_test() override {
    client_.reset();
    server_.reset();
  }

  /// A fresh actor may still be starting on a worker when the first calls
  /// arrive; once it idles, deliveries wake it on the network thread.
  void settle() {
    for (int i = 0; i < 100; ++i) {
      auto where = where_.get_reply({0, {}}).get(test_timeout);
      if (where && where.value())
        return;
      std::this_thread::sleep_for(1ms);
    }
    FAIL() << "the server's actor never ran on the network thread";
  }

  log_capture log_;
  caf::actor_system_config client_config_;
  caf::actor_system_config server_config_;
  std::unique_ptr<node> client_;
  std::unique_ptr<node> server_;
  request_stream<where_request> where_;
  request_stream<via_blocking_request> via_blocking_;
  request_stream<wait_inside_request> wait_inside_;
};

TEST_F(network_thread_test, a_remote_request_is_handled_on_the_network_thread) {
  for (int i = 0; i < 20; ++i)
    EXPECT_TRUE(where_.get_reply({0, {}}).get(test_timeout).value()) << "call " << i;
}

TEST_F(network_thread_test, an_actor_with_a_backlog_moves_on_to_a_worker_and_answers_all) {
  // 2000 calls of 20 us each arrive far faster than they are handled: the
  // actor has messages left after its inline runs and a worker takes over.
  std::vector<reply_future<bool>> answers;
  for (int i = 0; i < 2000; ++i)
    answers.push_back(where_.get_reply({20, {}}));
  int on_network = 0;
  int on_worker = 0;
  for (auto& answer : answers) {
    auto where = answer.get(test_timeout);
    ASSERT_TRUE(where);
    ++(where.value() ? on_network : on_worker);
  }
  EXPECT_GT(on_network, 0);
  EXPECT_GT(on_worker, 0);
  // Once the backlog is gone, calls are handled on the network thread again.
  settle();
}

TEST_F(network_thread_test, an_actor_started_from_the_network_thread_may_send_from_another) {
  // The forwarder runs on its own thread but was started with the network
  // thread's unit as its context; its send must reach a worker, not the
  // unit's queue (which only the network thread may touch).
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(via_blocking_.get_reply({i, 40, {}}).get(test_timeout).value(), i + 40);
}

TEST_F(network_thread_test, a_handler_that_holds_the_network_thread_is_named_in_the_log) {
  EXPECT_FALSE(log_.contains("held the network thread"));
  EXPECT_TRUE(where_.get_reply({150'000, {}}).get(test_timeout).value());
  EXPECT_TRUE(log_.contains("held the network thread for"));
}

TEST_F(network_thread_test, waiting_for_an_answer_on_the_network_thread_fails_instead_of_hanging) {
  auto adder = client_->system().spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](add_request& request) { request.reply.send(request.a + request.b); }};
  });
  auto add = serve<add_request>(adder, client_->transport()).value();
  auto call = [&] { return wait_inside_.get_reply({add, {}}).get(test_timeout); };
#ifdef NDEBUG
  // Release builds report the misuse and carry on; the handler's get()
  // failed at once, and the node still answers.
  auto answer = call();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer.value(),
            -static_cast<std::int32_t>(
                std::make_error_code(std::errc::resource_deadlock_would_occur).value()));
  EXPECT_TRUE(where_.get_reply({0, {}}).get(test_timeout).value());
#else
  // Debug builds stop at the programming error, naming the way out.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH((void)call(), "use then\\(\\)");
#endif
}

} // namespace
} // namespace grainflow::test
