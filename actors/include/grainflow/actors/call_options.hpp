#pragma once

#include "grainflow/transport/providers.hpp"

#include <optional>

namespace grainflow {

/// Options of one call: for now its deadline.
///
/// The deadline travels with the request (as the time remaining when it
/// leaves), the caller gets `timed_out` at the deadline, and a server does
/// not start work whose deadline passed before the request arrived.
struct call_options {
  std::optional<time_point> deadline;

  /// A deadline `timeout` from `now` (pass the transport's clock for
  /// simulated time).
  static call_options within(duration timeout, time_point now = std::chrono::steady_clock::now()) {
    return call_options{now + timeout};
  }
  /// An absolute deadline.
  static call_options until(time_point deadline) { return call_options{deadline}; }
};

} // namespace grainflow
