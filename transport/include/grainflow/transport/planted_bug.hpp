#pragma once

/// @file
/// TEST ONLY: transport bugs planted on purpose, so that a test can prove the
/// deterministic simulator catches them (tests/simulation/planted_bug_test).

#include <cstdint>

namespace grainflow::testing {

/// A deliberate bug the transport can be told to have. Every one is off
/// unless a test turns it on; nothing but tests may call plant_bug().
enum class planted_bug : std::uint8_t {
  none = 0,
  /// reliable_session::on_resume rewinds to one packet past the last
  /// acknowledged one (when that packet was written before): the replay after
  /// a reconnect starts one packet late, so a reliable packet lost with the
  /// old connection is never sent again. The session's own invariant checks
  /// still hold; only the end-to-end guarantee breaks.
  replay_starts_one_late = 1,
};

/// Turns a planted bug on (none: off) for every session of this process.
/// Process-wide (one relaxed atomic) because the simulator runs a whole
/// cluster in one process; read once per resume, off the per-packet path.
void plant_bug(planted_bug bug) noexcept;

/// The bug planted now.
[[nodiscard]] planted_bug planted() noexcept;

} // namespace grainflow::testing
