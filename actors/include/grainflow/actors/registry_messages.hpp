#pragma once

/// @file
/// The wire types of the name registry (docs/protocol.md, "Name registry"):
/// one request type for every operation, because the registry lives at a
/// single well-known token, and the answer it carries back.

#include "grainflow/actors/reply_promise.hpp"
#include "grainflow/endpoints/endpoint.hpp"
#include "grainflow/endpoints/msgpack_adaptors.hpp"

#include <msgpack.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace grainflow {

/// What a registry_request asks for. The numbers are part of the wire.
enum class registry_op : std::uint8_t {
  /// Bind `name` to `target`, replacing any earlier binding (the latest
  /// registration wins). Answer: `found` when an earlier binding was
  /// replaced, `target` that earlier endpoint.
  register_name = 0,
  /// Find `name`. Answer: `found` and the bound endpoint, or not found. A
  /// registry whose binding points into its own process answers only while
  /// that endpoint exists (a gone one is dropped first).
  lookup = 1,
  /// Remove `name` — only when it is bound to `target`, or whatever it is
  /// bound to when `target` is invalid (so a stale holder cannot remove a
  /// newer registration). Answer: `found` when a binding was removed,
  /// `target` the removed endpoint.
  unregister_name = 2,
  /// Does `target` exist in the answering process? (`name` is ignored.)
  /// Answer: `found` when it does. Asked of the target's own node to tell a
  /// live binding from a stale one.
  probe = 3,
};

/// The longest name, in bytes.
inline constexpr std::size_t max_registry_name_size = 128;

/// Whether `name` is a valid registry name: 1..128 bytes of printable ASCII
/// (0x20..0x7E; no control characters, no bytes above 0x7E).
constexpr bool valid_registry_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_registry_name_size)
    return false;
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7E)
      return false;
  }
  return true;
}

/// A registry's answer. What `found` and `target` mean depends on the
/// operation; see registry_op.
struct registry_answer {
  bool found = false;
  endpoint target;
  MSGPACK_DEFINE(found, target)
};

/// A request to a name registry, sent to the well-known token
/// `well_known_token(well_known::name_registry)` of a node.
///
/// Body on the wire: `[op, name, target, reply]` (docs/protocol.md, "Name
/// registry"). `op` is a registry_op; an unknown one is answered with
/// std::errc::operation_not_supported, a bad name (for every op but probe)
/// with std::errc::invalid_argument.
struct registry_request {
  std::uint8_t op = 0;
  std::string name;
  endpoint target;
  reply_promise<registry_answer> reply;
  MSGPACK_DEFINE(op, name, target, reply)
};

} // namespace grainflow
