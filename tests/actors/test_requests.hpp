#pragma once

// Request types and actors shared by the actors/ tests, and a fixture that
// runs every scenario twice: objects moved in-process, and every message
// serialized through the packet path, because both must behave the same.

#include "grainflow/actors/all.hpp"
#include "grainflow/transport/log.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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

#if defined(__SANITIZE_THREAD__)
#define GRAINFLOW_TEST_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GRAINFLOW_TEST_UNDER_TSAN 1
#endif
#endif

/// How much longer the few timing bounds of these tests (failure detection,
/// resume windows) are in this build. ThreadSanitizer runs code 5-15x
/// slower, and its suite shares two cores with the other trees' tests: a
/// first connection there has taken more than 700 ms. The bounds hold
/// unscaled in the other trees.
#ifdef GRAINFLOW_TEST_UNDER_TSAN
constexpr int timing_scale = 3;
#else
constexpr int timing_scale = 1;
#endif

/// A transport on 127.0.0.1 (a port of the kernel's choosing) with the
/// production timeouts: for scenarios that are not about failure detection.
transport_config loopback_transport();

/// loopback_transport() that notices a silent or vanished peer quickly
/// (pings every 100 ms, 500 ms without input, 700 ms to resume; each
/// duration times timing_scale): for scenarios that time failures.
transport_config quick_failure_detection();

/// Captures the transport's warnings (set_log_handler) while it lives. Create
/// it before any transport starts and destroy it after they are gone: the
/// handler is process-wide.
class log_capture {
public:
  log_capture();
  ~log_capture();
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  /// Whether a captured line contains `text`.
  bool contains(std::string_view text);
  /// Every captured line, one per line of the result: for failure messages.
  std::string lines();

private:
  static void capture(void* context, const char* line) noexcept;

  std::mutex mtx_;
  std::vector<std::string> lines_;
};

} // namespace grainflow::test
