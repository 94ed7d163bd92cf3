#pragma once

// Request types and actors shared by the actors/ tests, and a fixture that
// runs every scenario twice: objects moved in-process, and every message
// serialized through the packet path, because both must behave the same.

#include "grainflow/actors/all.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <atomic>
#include <string>

namespace grainflow::test {

struct add_request {
  std::int32_t a = 0;
  std::int32_t b = 0;
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(a, b, reply)
};

/// The server keeps the promise in its state without answering, until told.
struct hold_request {
  std::int32_t id = 0;
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(id, reply)
};

/// The server drops the promise without answering.
struct drop_request {
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(reply)
};

/// Answer every held promise with its id.
struct release_all_request {
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(reply)
};

/// The same wire slot as add_request, but a string where ints are expected:
/// decoding it as add_request fails.
struct misshapen_request {
  std::string a;
  std::string b;
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(a, b, reply)
};

/// Counts handler runs across the tests' actors.
struct handler_counts {
  std::atomic<int> add{0};
  std::atomic<int> hold{0};
  std::atomic<int> drop{0};
};

/// An actor that adds, holds or drops promises; counts each handler run.
caf::behavior test_server(caf::stateful_actor<std::vector<reply_promise<std::int32_t>>>* self,
                          handler_counts* counts);

/// The streams one test_server serves.
struct served_streams {
  caf::actor actor;
  request_stream<add_request> add;
  request_stream<hold_request> hold;
  request_stream<drop_request> drop;
  request_stream<release_all_request> release_all;
};

/// Spawns a test_server on `host` and serves its four streams there.
served_streams serve_test_server(node& host, handler_counts* counts);

/// Bytes as lowercase hex pairs separated by spaces ("92 00 2a"), for
/// pinning wire formats.
std::string hex(const std::vector<std::byte>& bytes);

/// Parameter: true runs every message through serialization.
class actor_test : public ::testing::TestWithParam<bool> {
protected:
  actor_test();
  ~actor_test() override;

  served_streams spawn_server();

  caf::actor_system_config config_;
  std::unique_ptr<node> node_;
  handler_counts counts_;
};

/// The name of a grainflow error code ("timed_out"), or the message of
/// another category's.
std::string to_string_error(const std::error_code& code);

/// Names the parameter in test output.
std::string path_name(const ::testing::TestParamInfo<bool>& info);

constexpr auto test_timeout = std::chrono::seconds{10};

} // namespace grainflow::test
