#pragma once

/// @file
/// splitmix64's finaliser, for hashing uids (uid_hash) and for values derived
/// from them on the wire (session keys, docs/protocol.md).

#include <cstdint>

namespace grainflow {

/// splitmix64's finaliser (Steele, Lea, Flood 2014): every input bit affects
/// every output bit. Session keys put its results on the wire, so it never
/// changes.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

} // namespace grainflow
