#include "grainflow/simulation/trace.hpp"

#include "grainflow/simulation/sim_random.hpp"

#include <cstdarg>

namespace grainflow::sim {

namespace {

double seconds(time_point t) noexcept {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

} // namespace

void trace::mix(std::uint64_t value) noexcept {
  hash_ = mix64(hash_ ^ mix64(value + 0x9e3779b97f4a7c15ULL));
}

void trace::mix(std::span<const std::byte> bytes) noexcept {
  // FNV-1a over the bytes, then one mix: cheap for the large chunks the
  // network delivers.
  std::uint64_t h = 14695981039346656037ULL;
  for (auto b : bytes) {
    h ^= static_cast<std::uint8_t>(b);
    h *= 1099511628211ULL;
  }
  mix(h ^ bytes.size());
}

void trace::mix(std::string_view text) noexcept {
  mix(std::as_bytes(std::span<const char>{text.data(), text.size()}));
}

void trace::step(time_point now, std::string_view what) noexcept {
  ++steps_;
  mix(static_cast<std::uint64_t>(now.time_since_epoch().count()));
  mix(what);
  if (log_ != nullptr)
    std::fprintf(log_, "%14.9f %.*s\n", seconds(now), static_cast<int>(what.size()), what.data());
}

void trace::note(time_point now, const char* format, ...) const noexcept {
  if (log_ == nullptr)
    return;
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  std::fprintf(log_, "%14.9f   %s\n", seconds(now), line);
}

} // namespace grainflow::sim
