#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>

namespace grainflow {

/// Time as the transport sees it: steady, in nanoseconds. The simulator's
/// virtual clock produces the same type.
using time_point = std::chrono::steady_clock::time_point;
using duration = std::chrono::steady_clock::duration;

/// The source of "now" for deadlines, pings and timeouts. Passed in, never
/// reached through a global, so simulation can run on virtual time.
class clock_provider {
public:
  virtual ~clock_provider();
  /// Any thread.
  virtual time_point now() const noexcept = 0;
};

/// The one source of randomness (tokens, incarnations, backoff jitter). A
/// simulated run draws everything from one seeded instance to be replayable.
class random_provider {
public:
  virtual ~random_provider();
  /// Any thread.
  virtual std::uint64_t next_u64() noexcept = 0;
};

/// steady_clock.
class real_clock final : public clock_provider {
public:
  time_point now() const noexcept override;
};

/// A mt19937_64 seeded from std::random_device, guarded by a mutex: tokens
/// are drawn at registration, far off the per-message path.
class real_random final : public random_provider {
public:
  real_random();
  /// Reproducible sequence for tests.
  explicit real_random(std::uint64_t seed);
  std::uint64_t next_u64() noexcept override;

private:
  std::mutex mtx_;
  std::mt19937_64 engine_;
};

class network_provider;

/// The providers a transport runs on. Null clock or random mean "the real
/// one"; a null network means "this process only" (no peers, no listener).
struct transport_providers {
  std::shared_ptr<clock_provider> clock;
  std::shared_ptr<random_provider> random;
  std::shared_ptr<network_provider> network;
};

} // namespace grainflow
