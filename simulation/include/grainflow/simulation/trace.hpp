#pragma once

/// @file
/// The fingerprint of a run, and its optional step-by-step log.

#include "grainflow/transport/providers.hpp"

#include <cstdint>
#include <cstdio>
#include <span>
#include <string_view>

namespace grainflow::sim {

/// Every step the simulator takes — each event it runs, each batch of actor
/// jobs, each chunk of bytes it delivers, each outcome a workload observes —
/// folds into one 64-bit hash. Two runs of one seed must end with the same
/// hash: that is what "deterministic" means here, and what the determinism
/// test compares. With a log stream set, the steps are also printed, one line
/// each, so two runs can be diffed to find where they part.
class trace {
public:
  // -- properties -------------------------------------------------------------

  /// The hash of everything recorded so far.
  [[nodiscard]] std::uint64_t hash() const noexcept { return hash_; }

  /// Steps recorded so far.
  [[nodiscard]] std::uint64_t steps() const noexcept { return steps_; }

  /// Whether steps are printed.
  [[nodiscard]] bool logging() const noexcept { return log_ != nullptr; }

  /// Prints every later step to `out` (null: stop printing).
  void log_to(std::FILE* out) noexcept { log_ = out; }

  // -- recording --------------------------------------------------------------

  /// Folds a value into the hash.
  void mix(std::uint64_t value) noexcept;

  /// Folds bytes into the hash.
  void mix(std::span<const std::byte> bytes) noexcept;

  /// Folds text into the hash.
  void mix(std::string_view text) noexcept;

  /// Records one step at virtual time `now`: folds both into the hash and,
  /// when logging, prints "<seconds> <what>".
  void step(time_point now, std::string_view what) noexcept;

  /// Prints a line (printf-style) when logging; does not touch the hash, so
  /// diagnostics may be added without changing any run's fingerprint.
  [[gnu::format(printf, 3, 4)]] void note(time_point now, const char* format, ...) const noexcept;

private:
  std::uint64_t hash_ = 0x6a09e667f3bcc908ULL;
  std::uint64_t steps_ = 0;
  std::FILE* log_ = nullptr;
};

} // namespace grainflow::sim
