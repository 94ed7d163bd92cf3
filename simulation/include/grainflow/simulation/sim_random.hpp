#pragma once

/// @file
/// The one seeded source of randomness of a simulated run.

#include "grainflow/transport/providers.hpp"

#include <array>
#include <cstdint>

namespace grainflow::sim {

/// xoshiro256** seeded through splitmix64. Every random choice of a run — the
/// network's latencies and faults, buggify, the workloads' operations, and the
/// transport's tokens, incarnations and session keys (it is their
/// random_provider) — is drawn from one instance, in the order the run makes
/// them, so a run is a function of its seed.
///
/// The generator and the helpers are specified here, bit for bit, rather than
/// taken from <random>: the standard distributions differ between standard
/// libraries, and a seed must replay the same run wherever it is built.
///
/// Thread safety: none. A simulation runs on one thread; random_provider's
/// "any thread" holds because there is only one.
class sim_random final : public random_provider {
public:
  // -- construction -----------------------------------------------------------

  explicit sim_random(std::uint64_t seed) noexcept;

  // -- random_provider --------------------------------------------------------

  std::uint64_t next_u64() noexcept override;

  // -- helpers ----------------------------------------------------------------

  /// Uniform in [0, n); 0 when n is 0. Unbiased (rejection).
  std::uint64_t below(std::uint64_t n) noexcept;

  /// Uniform in [lo, hi]. @pre lo <= hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi) noexcept;

  /// Uniform in [0, 1), with 53 bits.
  double unit() noexcept;

  /// True with probability `p` (clamped to [0, 1]).
  bool chance(double p) noexcept;

  /// A duration uniform in [lo, hi]. @pre lo <= hi.
  duration between(duration lo, duration hi) noexcept;

  /// A duration log-uniform in [lo, hi]: as likely within 10..100 us as within
  /// 1..10 ms, which suits latencies and fault durations. @pre 0 < lo <= hi.
  duration log_between(duration lo, duration hi) noexcept;

private:
  std::array<std::uint64_t, 4> state_{};
};

/// splitmix64's output function: a bijective mix of 64 bits. Also used to
/// derive independent values from a seed (buggify's per-run activation).
[[nodiscard]] std::uint64_t mix64(std::uint64_t x) noexcept;

} // namespace grainflow::sim
