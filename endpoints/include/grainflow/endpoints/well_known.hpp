#pragma once

/// @file
/// Well-known tokens: endpoints every process has at fixed addresses.

#include "grainflow/endpoints/uid.hpp"

#include <cstddef>
#include <cstdint>

namespace grainflow {

/// The number of well-known tokens, framework and application ranges
/// together. Well-known tokens are `uid{~0, n}` with `n < well_known_count`.
inline constexpr std::size_t well_known_count = 64;

/// Indexes of the well-known tokens. A peer can address these without having
/// been told a token, which is what bootstraps every conversation.
///
/// - 0..3 are the transport's own: where "endpoint not found" notices go,
///   pings, "unauthorized" notices, and the connection handshake.
/// - 4..31 are reserved for the framework (name registry, grain directory,
///   and later services). Applications must not use them.
/// - 32..63 (`first_application` up to `count`) belong to applications, which
///   pick fixed numbers for their bootstrap services (a cluster controller,
///   say) the same way a protocol picks a port.
enum class well_known : std::uint64_t {
  /// Receives notices that a token sent to a peer did not exist there.
  endpoint_not_found = 0,
  /// Answers pings; used for liveness.
  ping = 1,
  /// Receives notices that a peer refused a request as unauthorized.
  unauthorized = 2,
  /// Carries the connection handshake.
  connection_handshake = 3,
  /// The framework's name registry.
  name_registry = 4,
  /// The grain directory of virtual actors.
  grain_directory = 5,
  /// Session framing on a connection: a reliable packet wrapped with its
  /// sequence number and a piggybacked acknowledgement.
  session_reliable = 6,
  /// Session framing on a connection: an acknowledgement on its own, sent
  /// when the line is idle.
  session_ack = 7,
  /// Session framing on a connection: a reliable frame whose inner packet is
  /// a request, counted against the receiver's request window.
  session_request = 8,
  /// Request flow control: the receiver gives request window back.
  request_credit = 9,
  /// Shared memory: the side with the smaller canonical address offers a
  /// link it created; the payload is the segment's name.
  shm_offer = 10,
  /// Shared memory: the sender's session frames come over the link from
  /// now on (empty payload; the last thing it sends on the connection).
  shm_switch = 11,
  /// The first index applications may use.
  first_application = 32,
  /// One past the last index; not a token.
  count = 64,
};

static_assert(static_cast<std::size_t>(well_known::count) == well_known_count,
              "well_known::count and well_known_count must agree");

/// Returns the token of well-known endpoint `n`. Precondition: `n <
/// well_known_count`; a larger `n` yields a token that `is_well_known` rejects
/// and that no endpoint_map will ever resolve.
constexpr uid well_known_token(std::uint64_t n) noexcept {
  return uid{~std::uint64_t{0}, n};
}

/// Returns the token of the well-known endpoint `w`.
constexpr uid well_known_token(well_known w) noexcept {
  return well_known_token(static_cast<std::uint64_t>(w));
}

/// Returns whether `x` is one of the `well_known_count` well-known tokens.
constexpr bool is_well_known(const uid& x) noexcept {
  return x.first == ~std::uint64_t{0} && x.second < well_known_count;
}

} // namespace grainflow
