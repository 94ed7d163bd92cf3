#pragma once

/// @file
/// What a remote measurement compares: clients in this process, each against
/// its own server child, measured in turns so that every one of them sees the
/// same machine.

#include "bench_report.hpp"
#include "child_process.hpp"

#include "grainflow/endpoints/result.hpp"

#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

namespace grainflow::bench {

/// A client in this process and the server child it calls.
class remote_contender {
public:
  explicit remote_contender(child_process server)
      : server_{std::move(server)} {}
  virtual ~remote_contender() = default;
  remote_contender(const remote_contender&) = delete;
  remote_contender& operator=(const remote_contender&) = delete;

  /// The `bench=` name of its measurements.
  virtual const char* name() const noexcept = 0;
  /// Makes `n` calls with `depth` of them in flight and times them; every
  /// answer is checked.
  [[nodiscard]] virtual result<measurement> measure(std::uint64_t n, int depth) = 0;

  /// Ends the client side, then the server child, and says so if the child
  /// did not end cleanly (the measurements stand: every reply was checked).
  void stop();

protected:
  virtual void close_client() {}

  child_process server_;
};

using remote_contenders = std::vector<std::unique_ptr<remote_contender>>;

/// Prints `bench=<name> [depth=<d>] error=<what>` on stderr (depth 0: none).
void print_contender_error(const char* name, int depth, const std::error_code& error);

/// Measures every contender at depth 1 and then 64. Each is warmed up and
/// given the n that makes one run last about a second (0.2 s when `quick`),
/// then gets the best of 3 runs, the runs taken in turns across the
/// contenders: the two cores are shared with the OS and the machine's speed
/// drifts over minutes, and in turns each contender's best comes from the
/// same stretch of time as the others'. Prints each result (bench_report's
/// `print`) and appends it to `out`, depth 1 first, in the contenders'
/// order. A contender that fails prints why and is stopped and dropped (null
/// in `contenders`); the others go on. Stops every contender at the end.
void compare_remote(bool quick, remote_contenders& contenders, std::vector<measurement>& out);

} // namespace grainflow::bench
