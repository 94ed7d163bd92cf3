#pragma once

#include <source_location>

namespace grainflow::detail {

/// Reports a programming error of the caller (such as resolving a promise
/// twice): aborts in debug builds so the bug is found, logs once per call
/// site and carries on in release builds so a service keeps running.
void report_misuse(const char* what,
                   std::source_location where = std::source_location::current()) noexcept;

} // namespace grainflow::detail
