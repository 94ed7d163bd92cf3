#pragma once

// Internal to endpoints/ (never installed): the checks the .cpp files use.
//
// GRAINFLOW_DEBUG_CHECK guards programmer errors and invariants (the
// INV-... names in the specs beside the code); it compiles to nothing when
// NDEBUG is defined, so it may sit on hot paths. GRAINFLOW_ALWAYS_CHECK guards
// conditions that correct use can still reach; it stays in release builds.
// Both abort with the source location, because continuing past a broken
// invariant would turn a clear report into silent corruption.

#include <source_location>

namespace grainflow::detail {

/// Prints "<file>:<line>: <function>: check `<expr>` failed: <why>" to stderr
/// and aborts.
[[noreturn]] void check_failed(const char* expr, const char* why,
                               std::source_location where) noexcept;

} // namespace grainflow::detail

#define GRAINFLOW_ALWAYS_CHECK(expr, why)                                                          \
  do {                                                                                             \
    if (!(expr))                                                                                   \
      ::grainflow::detail::check_failed(#expr, why, std::source_location::current());              \
  } while (false)

#ifdef NDEBUG
#define GRAINFLOW_DEBUG_CHECK(expr, why)                                                           \
  do {                                                                                             \
  } while (false)
#else
#define GRAINFLOW_DEBUG_CHECK(expr, why) GRAINFLOW_ALWAYS_CHECK(expr, why)
#endif
