#pragma once

/// @file
/// Where to send a packet: a process's address and a token inside it.

#include "grainflow/endpoints/network_address.hpp"
#include "grainflow/endpoints/uid.hpp"

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace grainflow {

/// A destination: the process that listens at `address` and the receiver
/// registered there under `token`. Endpoints are plain values; holding one
/// keeps nothing alive, and a token whose receiver is gone is answered with
/// `error::endpoint_not_found`.
struct endpoint {
  // -- members ----------------------------------------------------------------

  /// The process's canonical listening address.
  network_address address;

  /// The receiver's token in that process's endpoint map.
  uid token;

  // -- properties -------------------------------------------------------------

  /// Returns the endpoint of method `method` of the interface whose base
  /// endpoint this is: same address, `token.second + method`. The endpoint map
  /// registers an interface's request streams in consecutive slots under one
  /// generation, so adding the method number to the slot index in the low
  /// bits of `second` names exactly that stream's slot. `adjusted(0)` is the
  /// endpoint itself.
  constexpr endpoint adjusted(std::uint32_t method) const noexcept {
    return endpoint{address, uid{token.first, token.second + method}};
  }

  /// Returns whether both the address and the token are valid.
  constexpr bool valid() const noexcept { return address.valid() && token.valid(); }

  /// Returns "<address>/<token>", e.g.
  /// "[::1]:4500/0123456789abcdef:0000000100000002".
  std::string to_string() const;

  // -- comparison -------------------------------------------------------------

  /// Orders by address, then token.
  friend constexpr auto operator<=>(const endpoint&, const endpoint&) noexcept = default;

  /// Compares address and token.
  friend constexpr bool operator==(const endpoint&, const endpoint&) noexcept = default;
};

} // namespace grainflow

namespace std {

/// Makes `grainflow::endpoint` usable as a key of unordered containers.
template <>
struct hash<grainflow::endpoint> {
  /// Returns a hash combining the address's and the token's hashes.
  std::size_t operator()(const grainflow::endpoint& x) const noexcept;
};

} // namespace std
