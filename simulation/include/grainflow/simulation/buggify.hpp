#pragma once

/// @file
/// buggify: fault injection sites, each switched on or off per run.

#include "grainflow/simulation/fwd.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace grainflow::sim {

/// FoundationDB's BUGGIFY, explicit: code that can misbehave in a useful way
/// (deliver bytes in pieces, fail a connect, shrink a buffer) asks
/// `bug.fires("net.bit_flip", 0.01)` and misbehaves when it answers true.
///
/// Each site is active in a run or not, decided once per run from the seed
/// and the site's name alone (with probability activation_probability), so a
/// site's activation does not depend on which other sites ran first. An
/// active site fires with the probability its call gives, drawn from the
/// run's random source; an inactive one never fires. So one run stresses a
/// few paths hard instead of every path a little, and across seeds every
/// combination comes up.
///
/// The sites a run touched, whether they were active and how often they
/// fired are reported (coverage: a site that never fires tests nothing).
///
/// Thread safety: none; the simulation's thread only.
class buggify {
public:
  /// Per-site counters of one run.
  struct site_stats {
    bool active = false;
    std::uint64_t evaluations = 0;
    std::uint64_t fired = 0;
  };

  /// The share of sites active in a run.
  static constexpr double activation_probability = 0.25;

  // -- construction -----------------------------------------------------------

  /// Sites are activated from `seed`; firing draws from `random`. When
  /// `enabled` is false no site ever fires (a run without injected faults).
  buggify(std::uint64_t seed, sim_random& random, bool enabled = true) noexcept;

  // -- operations -------------------------------------------------------------

  /// Whether site `name` misbehaves now: active in this run, and the draw
  /// with probability `p` succeeds. Names are dotted, "area.what".
  [[nodiscard]] bool fires(std::string_view name, double p = 0.25);

  /// Whether site `name` is active in this run (without drawing; counts as
  /// an evaluation). For choices made once per run, e.g. a config value.
  [[nodiscard]] bool active(std::string_view name);

  // -- properties -------------------------------------------------------------

  /// Every site evaluated in this run, by name.
  [[nodiscard]] const std::map<std::string, site_stats, std::less<>>& sites() const noexcept {
    return sites_;
  }

private:
  site_stats& site(std::string_view name);

  std::uint64_t seed_;
  sim_random& random_;
  bool enabled_;
  std::map<std::string, site_stats, std::less<>> sites_;
};

} // namespace grainflow::sim
