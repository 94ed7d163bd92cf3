#include "grainflow/simulation/sim_clock.hpp"

#include "grainflow/simulation/sim_scheduler.hpp"

namespace grainflow::sim {

namespace {

constexpr std::int64_t million = 1'000'000;

// 128-bit intermediates: elapsed nanoseconds times (1e6 + ppm) overflows 64
// bits after a few hours of virtual time. (__extension__: no -Wpedantic
// complaint about the GCC/Clang type.)
__extension__ typedef __int128 wide;

} // namespace

sim_clock::sim_clock(const sim_scheduler& scheduler, time_point world_origin,
                     time_point local_origin, std::int32_t drift_ppm) noexcept
    : scheduler_(scheduler)
    , world_origin_(world_origin)
    , local_origin_(local_origin)
    , drift_ppm_(drift_ppm) {}

time_point sim_clock::now() const noexcept {
  return local_at(scheduler_.now());
}

time_point sim_clock::local_at(time_point world) const noexcept {
  const wide elapsed = (world - world_origin_).count();
  const wide scaled = elapsed * (million + drift_ppm_) / million;
  return local_origin_ + duration{static_cast<duration::rep>(scaled)};
}

time_point sim_clock::world_at(time_point local) const noexcept {
  const wide elapsed = (local - local_origin_).count();
  const wide rate = million + drift_ppm_;
  // Rounded up, then nudged: the first world time whose local reading is at
  // least `local`, so a timer never fires before its deadline.
  wide world = elapsed >= 0 ? (elapsed * million + rate - 1) / rate : elapsed * million / rate;
  auto candidate = world_origin_ + duration{static_cast<duration::rep>(world)};
  while (local_at(candidate) < local)
    candidate += duration{1};
  while (candidate > world_origin_ && local_at(candidate - duration{1}) >= local)
    candidate -= duration{1};
  return candidate;
}

} // namespace grainflow::sim
