#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace grainflow::bench {

/// One measurement: `n` round trips with `depth` of them outstanding at a
/// time, taking `seconds`.
struct measurement {
  std::string name;
  int depth = 1;
  std::uint64_t n = 0;
  double seconds = 0;

  double req_per_s() const { return static_cast<double>(n) / seconds; }
  /// The mean time one request spends from call to answer: with `depth`
  /// outstanding, each waits behind depth-1 others.
  double us_per_rt() const { return seconds * 1e6 * depth / static_cast<double>(n); }
};

/// The faster of two measurements of the same thing (`a` may be empty).
inline measurement faster(const measurement& a, const measurement& b) {
  return a.n == 0 || b.seconds < a.seconds ? b : a;
}

/// Prints `bench=<name> depth=<d> n=<n> seconds=<s> req_per_s=<x> us_per_rt=<y>`.
void print(const measurement& m);

/// Prints `ratio=<a>/<b> depth=<d> req_per_s=<x> us_per_rt=<y>`: a's figure
/// divided by b's, measured in the same run.
void print_ratio(const measurement& a, const measurement& b);

/// Seconds since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace grainflow::bench
