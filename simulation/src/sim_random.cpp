#include "grainflow/simulation/sim_random.hpp"

#include <algorithm>
#include <cmath>

namespace grainflow::sim {

namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
  return (x << k) | (x >> (64 - k));
}

} // namespace

std::uint64_t mix64(std::uint64_t x) noexcept {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

sim_random::sim_random(std::uint64_t seed) noexcept {
  // splitmix64 fills the state, as xoshiro's authors recommend; it never
  // yields four zero words.
  for (auto& word : state_) {
    seed += 0x9e3779b97f4a7c15ULL;
    word = mix64(seed);
  }
}

std::uint64_t sim_random::next_u64() noexcept {
  // xoshiro256**.
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

std::uint64_t sim_random::below(std::uint64_t n) noexcept {
  if (n == 0)
    return 0;
  // Reject the top partial range so every residue is equally likely.
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
  std::uint64_t x = next_u64();
  while (x >= limit)
    x = next_u64();
  return x % n;
}

std::int64_t sim_random::between(std::int64_t lo, std::int64_t hi) noexcept {
  const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span == ~std::uint64_t{0})
    return static_cast<std::int64_t>(next_u64());
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + below(span + 1));
}

double sim_random::unit() noexcept {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

bool sim_random::chance(double p) noexcept {
  if (p <= 0.0)
    return false;
  if (p >= 1.0)
    return true;
  return unit() < p;
}

duration sim_random::between(duration lo, duration hi) noexcept {
  return duration{between(lo.count(), hi.count())};
}

duration sim_random::log_between(duration lo, duration hi) noexcept {
  const double a = std::log(static_cast<double>(std::max<duration::rep>(lo.count(), 1)));
  const double b = std::log(static_cast<double>(std::max<duration::rep>(hi.count(), 1)));
  const auto picked = static_cast<duration::rep>(std::exp(a + (b - a) * unit()));
  return std::clamp(duration{picked}, lo, hi);
}

} // namespace grainflow::sim
