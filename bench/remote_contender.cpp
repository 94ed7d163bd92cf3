#include "remote_contender.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace grainflow::bench {

namespace {

/// `x` rounded to two significant digits, so that the `n` printed reads well.
std::uint64_t round_to_two_digits(double x) {
  if (x < 100)
    return static_cast<std::uint64_t>(std::max(1.0, std::round(x)));
  auto scale = std::pow(10.0, std::floor(std::log10(x)) - 1);
  return static_cast<std::uint64_t>(std::round(x / scale) * scale);
}

/// Warms `c` up at `depth` with runs of growing size until one after the
/// first lasts a tenth of `target_seconds`, and returns the n for which a run
/// lasts about `target_seconds`. The contenders differ by two orders of
/// magnitude (raw-tcp at depth 64 against caf-remote at depth 1), so one fixed
/// n would make one run too short to time or another take minutes.
result<std::uint64_t> warm_up(remote_contender& c, int depth, double target_seconds) {
  constexpr std::uint64_t max_n = 100'000'000;
  std::uint64_t n = depth == 1 ? 500 : 5'000;
  // The first run pays for cold caches and lazy setup (a proxy, the server's
  // first accept); it is never the one that sets n.
  for (bool first = true;; first = false) {
    auto m = c.measure(n, depth);
    if (!m)
      return failure(m.error());
    if (!first && (m.value().seconds >= target_seconds / 10 || n >= max_n)) {
      auto per_request = m.value().seconds / static_cast<double>(n);
      return std::min(max_n, round_to_two_digits(target_seconds / per_request));
    }
    n *= 4;
  }
}

} // namespace

void remote_contender::stop() {
  close_client();
  auto status = server_.terminate();
  if (!status)
    std::fprintf(stderr, "%s server: %s\n", name(), status.error().message().c_str());
  else if (!ended_cleanly(status.value()))
    std::fprintf(stderr, "%s server: %s\n", name(), describe_status(status.value()).c_str());
}

void print_contender_error(const char* name, int depth, const std::error_code& error) {
  if (depth > 0)
    std::fprintf(stderr, "bench=%s depth=%d error=%s\n", name, depth, error.message().c_str());
  else
    std::fprintf(stderr, "bench=%s error=%s\n", name, error.message().c_str());
}

void compare_remote(bool quick, remote_contenders& contenders, std::vector<measurement>& out) {
  auto drop = [&](std::size_t i, int depth, const std::error_code& error) {
    print_contender_error(contenders[i]->name(), depth, error);
    contenders[i]->stop();
    contenders[i].reset();
  };
  constexpr int runs = 3;
  const double target_seconds = quick ? 0.2 : 1.0;
  for (int depth : {1, 64}) {
    std::vector<std::uint64_t> n(contenders.size());
    for (std::size_t i = 0; i < contenders.size(); ++i) {
      if (!contenders[i])
        continue;
      if (auto warm = warm_up(*contenders[i], depth, target_seconds); warm)
        n[i] = warm.value();
      else
        drop(i, depth, warm.error());
    }
    std::vector<measurement> best(contenders.size());
    for (int run = 0; run < runs; ++run) {
      for (std::size_t i = 0; i < contenders.size(); ++i) {
        if (!contenders[i])
          continue;
        if (auto m = contenders[i]->measure(n[i], depth); m)
          best[i] = faster(best[i], m.value());
        else
          drop(i, depth, m.error());
      }
    }
    for (std::size_t i = 0; i < contenders.size(); ++i) {
      if (contenders[i]) {
        print(best[i]);
        out.push_back(best[i]);
      }
    }
  }
  for (auto& c : contenders)
    if (c)
      c->stop();
}

} // namespace grainflow::bench
