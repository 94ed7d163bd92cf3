#include "grainflow/simulation/assertions.hpp"

#include "grainflow/simulation/sim_scheduler.hpp"
#include "grainflow/simulation/trace.hpp"

#include <cstdio>

namespace grainflow::sim {

assertions::assertions(trace& log, const sim_scheduler& scheduler) noexcept
    : log_(log)
    , scheduler_(scheduler) {}

bool assertions::always(bool holds, std::string_view name, std::string_view detail) {
  if (holds)
    return true;
  std::string reason{name};
  if (!detail.empty()) {
    reason += ": ";
    reason += detail;
  }
  fail(reason);
  return false;
}

void assertions::sometimes(bool reached, std::string_view name) {
  if (!reached)
    return;
  auto found = coverage_.find(name);
  if (found == coverage_.end())
    found = coverage_.emplace(std::string{name}, 0).first;
  ++found->second;
}

void assertions::expect(std::string_view name) {
  if (!coverage_.contains(name))
    coverage_.emplace(std::string{name}, 0);
}

void assertions::fail(std::string_view reason) {
  ++failures_;
  const auto now = scheduler_.now();
  log_.step(now, std::string{"FAILED "} + std::string{reason});
  if (first_failure_.empty()) {
    char when[32];
    std::snprintf(when, sizeof(when), " (at %.6fs)",
                  std::chrono::duration<double>(now.time_since_epoch()).count());
    first_failure_ = std::string{reason} + when;
  }
}

} // namespace grainflow::sim
