#pragma once

/// @file
/// One simulated machine's clock: virtual time as that machine reads it.

#include "grainflow/simulation/fwd.hpp"
#include "grainflow/transport/providers.hpp"

#include <cstdint>

namespace grainflow::sim {

/// A steady clock that follows the simulation's virtual time, but as one
/// machine reads it: from its own origin (machines' clocks never agree on
/// "now", which deadlines must survive — they travel as time remaining) and
/// at its own rate, off by `drift_ppm` parts per million (a fast clock fires
/// timers early in virtual time, a slow one late).
///
/// local(world) = local_origin + (world - world_origin) * (1e6 + drift_ppm) / 1e6
///
/// The mapping is monotonic, so the machine's timers fire in the order of
/// their local deadlines. A restarted process keeps its machine's clock.
///
/// Thread safety: none; the simulation's thread only.
class sim_clock final : public clock_provider {
public:
  /// Reads `scheduler`'s virtual time; at virtual `world_origin` this clock
  /// reads `local_origin`. @pre |drift_ppm| < 100000.
  sim_clock(const sim_scheduler& scheduler, time_point world_origin, time_point local_origin,
            std::int32_t drift_ppm) noexcept;

  /// This machine's reading of the current virtual time.
  time_point now() const noexcept override;

  /// This machine's reading at virtual time `world`.
  [[nodiscard]] time_point local_at(time_point world) const noexcept;

  /// The earliest virtual time at which this clock reads `local` or later
  /// (when a timer for `local` is due).
  [[nodiscard]] time_point world_at(time_point local) const noexcept;

  /// The rate error, in parts per million.
  [[nodiscard]] std::int32_t drift_ppm() const noexcept { return drift_ppm_; }

private:
  const sim_scheduler& scheduler_;
  time_point world_origin_;
  time_point local_origin_;
  std::int32_t drift_ppm_;
};

} // namespace grainflow::sim
