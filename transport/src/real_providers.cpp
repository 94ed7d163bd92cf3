#include "grainflow/transport/providers.hpp"

namespace grainflow {

clock_provider::~clock_provider() = default;
random_provider::~random_provider() = default;

time_point real_clock::now() const noexcept {
  return std::chrono::steady_clock::now();
}

real_random::real_random()
    : engine_(std::random_device{}()) {
  // One 32-bit draw is too little state for 128-bit incarnations: mix in a
  // second draw and the time.
  engine_.seed(
      (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}() ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
}

real_random::real_random(std::uint64_t seed)
    : engine_(seed) {}

std::uint64_t real_random::next_u64() noexcept {
  std::lock_guard<std::mutex> guard{mtx_};
  return engine_();
}

} // namespace grainflow
