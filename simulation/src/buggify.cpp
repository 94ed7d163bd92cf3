#include "grainflow/simulation/buggify.hpp"

#include "grainflow/simulation/sim_random.hpp"

namespace grainflow::sim {

namespace {

/// FNV-1a of the site's name: its identity, independent of the order in
/// which sites are first evaluated.
std::uint64_t name_hash(std::string_view name) noexcept {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

} // namespace

buggify::buggify(std::uint64_t seed, sim_random& random, bool enabled) noexcept
    : seed_(seed)
    , random_(random)
    , enabled_(enabled) {}

buggify::site_stats& buggify::site(std::string_view name) {
  auto found = sites_.find(name);
  if (found != sites_.end())
    return found->second;
  site_stats fresh;
  if (enabled_) {
    // A draw of its own per (seed, site), not from the run's stream.
    const auto draw = mix64(seed_ ^ mix64(name_hash(name)));
    fresh.active = static_cast<double>(draw >> 11) * 0x1.0p-53 < activation_probability;
  }
  return sites_.emplace(std::string{name}, fresh).first->second;
}

bool buggify::fires(std::string_view name, double p) {
  auto& stats = site(name);
  ++stats.evaluations;
  if (!stats.active || !random_.chance(p))
    return false;
  ++stats.fired;
  return true;
}

bool buggify::active(std::string_view name) {
  auto& stats = site(name);
  ++stats.evaluations;
  if (stats.active)
    ++stats.fired;
  return stats.active;
}

} // namespace grainflow::sim
