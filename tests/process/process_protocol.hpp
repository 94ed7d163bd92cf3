#pragma once

// What the multi-process tests and grainflow_test_node (tests/support/
// test_node_main.cpp) say to each other: the request types the node serves,
// the names under which it announces them, and the line format of its
// announcements. Both sides include this one header, so the wire types cannot
// drift apart.

#include "grainflow/actors/reply_promise.hpp"

#include <msgpack.hpp>

#include <cstdint>
#include <vector>

namespace grainflow::process_test {

/// Answered with a + b.
struct add_request {
  std::int32_t a = 0;
  std::int32_t b = 0;
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(a, b, reply)
};

/// The node keeps the promise unanswered until a release_request: a call
/// that is certainly waiting when the test kills or cuts something.
struct hold_request {
  std::int32_t id = 0;
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(id, reply)
};

/// Answers every held promise with its request's id; answered with how many
/// were held.
struct release_request {
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(reply)
};

/// The node drops the promise without answering: broken_promise.
struct drop_request {
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(reply)
};

/// A request with an identity: the node counts its handler runs per id, so
/// that a request delivered twice shows up as a duplicate. Answered with
/// tagged_answer(id, value).
struct tagged_request {
  std::uint64_t id = 0;
  std::int64_t value = 0;
  reply_promise<std::int64_t> reply;
  MSGPACK_DEFINE(id, value, reply)
};

/// The answer to a tagged request: depends on both fields, so a reply that
/// reached the wrong call cannot pass for the right one.
constexpr std::int64_t tagged_answer(std::uint64_t id, std::int64_t value) noexcept {
  return static_cast<std::int64_t>(id * 1000003u) ^ value;
}

/// What the node has handled so far.
struct node_stats {
  std::uint64_t add_runs = 0;
  std::uint64_t hold_runs = 0;
  std::uint64_t drop_runs = 0;
  /// Handler runs of tagged requests, duplicates included.
  std::uint64_t tagged_runs = 0;
  /// Distinct ids among them.
  std::uint64_t tagged_distinct = 0;
  /// Runs beyond the first for some id: must stay 0 (exactly once).
  std::uint64_t tagged_duplicates = 0;
  /// The first few ids that ran more than once, for the failure message.
  std::vector<std::uint64_t> duplicate_ids;
  /// Over every peer of the node's transport (peer_stats): connections after
  /// the first, and reliable packets written again after a reconnect — the
  /// evidence that a test really made the node replay.
  std::uint64_t reconnects = 0;
  std::uint64_t retransmits = 0;
  MSGPACK_DEFINE(add_runs, hold_runs, drop_runs, tagged_runs, tagged_distinct, tagged_duplicates,
                 duplicate_ids, reconnects, retransmits)
};

/// Answered with the node's stats as its actor sees them once every request
/// that reached the actor before this one was handled.
struct stats_request {
  reply_promise<node_stats> reply;
  MSGPACK_DEFINE(reply)
};

/// The names the node announces its streams under, one line each:
/// "stream=<name> port=<port> first=<u64> second=<u64>", then "ready".
namespace stream_names {
inline constexpr const char* add = "add";
inline constexpr const char* hold = "hold";
inline constexpr const char* release = "release";
inline constexpr const char* drop = "drop";
inline constexpr const char* tagged = "tagged";
inline constexpr const char* stats = "stats";
} // namespace stream_names

/// The node's last line before it serves.
inline constexpr const char* ready_line = "ready";

/// The line the node prints on SIGTERM, before it exits: its final stats, as
/// "final add=<n> hold=<n> tagged=<n> distinct=<n> duplicates=<n>".
inline constexpr const char* final_stats_prefix = "final ";

} // namespace grainflow::process_test
