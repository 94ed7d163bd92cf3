#pragma once

/// @file
/// The 128-bit token that names an endpoint.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace grainflow {

/// A 128-bit identifier: endpoint tokens, process incarnations, resume keys.
///
/// Endpoint tokens give the halves a meaning (see `endpoint_map` and
/// `well_known`): a well-known token has `first == ~0` and a small `second`;
/// a dynamic token has random bits in `first` and a generation and slot index
/// in `second`. Everywhere else a uid is just 128 opaque bits.
struct uid {
  // -- members ----------------------------------------------------------------

  /// The high 64 bits.
  std::uint64_t first = 0;

  /// The low 64 bits.
  std::uint64_t second = 0;

  // -- properties -------------------------------------------------------------

  /// Returns whether this uid is anything but the all-zero default, which
  /// stands for "no uid".
  constexpr bool valid() const noexcept { return first != 0 || second != 0; }

  /// Returns both halves as 16 lowercase hex digits each, separated by a
  /// colon: "0123456789abcdef:0000000100000002". Fixed width, so printed
  /// tokens line up in logs and the two halves stay apart.
  std::string to_string() const;

  // -- comparison -------------------------------------------------------------

  /// Orders by `first`, then `second`.
  friend constexpr auto operator<=>(const uid&, const uid&) noexcept = default;

  /// Compares both halves.
  friend constexpr bool operator==(const uid&, const uid&) noexcept = default;
};

/// Hashes a uid for unordered containers. Mixes both halves, because tokens
/// that differ only in one half (a run's slot indexes, well-known tokens) are
/// common.
struct uid_hash {
  /// Returns the hash of `x`.
  std::size_t operator()(const uid& x) const noexcept;
};

} // namespace grainflow

namespace std {

/// Makes `grainflow::uid` usable as a key of std::unordered_map and friends.
template <>
struct hash<grainflow::uid> {
  /// Returns `grainflow::uid_hash{}(x)`.
  std::size_t operator()(const grainflow::uid& x) const noexcept {
    return grainflow::uid_hash{}(x);
  }
};

} // namespace std
