#pragma once

/// @file
/// What a run checks: invariants that must always hold, and situations that
/// must sometimes be reached.

#include "grainflow/simulation/fwd.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace grainflow::sim {

/// The two kinds of assertions of FoundationDB's simulation (and Antithesis):
///
/// - `always(cond, name, detail)`: an invariant. When `cond` is false the run
///   fails; its result names the first violation (the runner prints it with
///   the seed, which replays the run). Later violations are counted too.
/// - `sometimes(cond, name)`: a coverage probe. It never fails a run; the
///   runner reports, per name, in how many seeds it was reached. A probe that
///   is never reached means the faults do not drive the code where the test
///   assumes they do. Declare goals with `expect` so that unreached ones show.
///
/// Thread safety: none; the simulation's thread only.
class assertions {
public:
  // -- construction -----------------------------------------------------------

  /// Violations are stamped with `scheduler`'s virtual time and folded into
  /// `log`.
  assertions(trace& log, const sim_scheduler& scheduler) noexcept;

  // -- checks -----------------------------------------------------------------

  /// Fails the run when `holds` is false. Returns `holds`.
  bool always(bool holds, std::string_view name, std::string_view detail = {});

  /// Counts `name` as reached when `reached` is true (a probe that is never
  /// reached shows in the coverage only when declared with expect()).
  void sometimes(bool reached, std::string_view name);

  /// Declares `name` as a coverage goal: reported even when never reached.
  void expect(std::string_view name);

  /// Fails the run for a reason that is no single invariant (a run that did
  /// not finish, an event budget exhausted).
  void fail(std::string_view reason);

  // -- properties -------------------------------------------------------------

  /// Whether any check failed.
  [[nodiscard]] bool failed() const noexcept { return failures_ > 0; }

  /// How many checks failed.
  [[nodiscard]] std::uint64_t failures() const noexcept { return failures_; }

  /// The first failure: "<name> at <time>s: <detail>"; empty when none.
  [[nodiscard]] const std::string& first_failure() const noexcept { return first_failure_; }

  /// Sometimes-probes by name: how often each was reached (0: declared with
  /// expect, never reached).
  [[nodiscard]] const std::map<std::string, std::uint64_t, std::less<>>& coverage() const noexcept {
    return coverage_;
  }

private:
  trace& log_;
  const sim_scheduler& scheduler_;
  std::uint64_t failures_ = 0;
  std::string first_failure_;
  std::map<std::string, std::uint64_t, std::less<>> coverage_;
};

} // namespace grainflow::sim
